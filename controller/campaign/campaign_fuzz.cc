// libFuzzer harness: any bytes as a campaign file, beside a valid scenario
// (quick.yaml) it may name. Written to a private directory, since the
// loader takes a path: relative scenario and kernel paths resolve there.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "controller/campaign/campaign.h"
#include "testing/fuzz/scratch_dir.h"

namespace {

constexpr char kScenario[] = R"(name: quick
vm: {memory_mib: 256, cpus: 1}
swap: {size_mib: 512}
workload: {procs_per_cpu: 2, ram_multiple: 1.1, passes: 1}
faults:
  - {at_s: 3, for_s: 3, netem: {direction: to_server, params: {loss: 10%}}}
deadline_s: 240
)";

void Write(const std::string& path, const char* data, size_t size) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(data, static_cast<std::streamsize>(size));
}

const std::string& Dir() {
  static const std::string& dir = []() -> const std::string& {
    const std::string& d = swapchaos::test::FuzzScratchDir();
    Write(d + "/quick.yaml", kScenario, sizeof kScenario - 1);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = Dir() + "/campaign.yaml";
  Write(path, reinterpret_cast<const char*>(data), size);
  (void)swapchaos::controller::LoadCampaign(path);
  return 0;
}
