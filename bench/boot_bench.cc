// boot_bench: what the agent costs at boot. Times, with the victim's QEMU
// command line (same kernel, devices, memory, acceleration) in the same run,
// (a) QEMU start until a minimal init prints its marker (the floor: firmware
// and kernel boot alone) and (b) QEMU start until the victim's agent answers
// gRPC (modules loaded, NICs up, agent serving).
// Prints each run, the medians and their ratio. Target: ratio <= 1.3.
//
//   build/bin/boot_bench [--runs N] [--kernel PATH] [--memory MIB]
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "controller/vm/accel.h"
#include "controller/vm/agent_client.h"
#include "controller/vm/qemu.h"
#include "controller/vm/topology.h"
#include "kernels/guest_image.h"
#include "kernels/kernel_image.h"

namespace {
namespace fs = std::filesystem;
using namespace swapchaos;
using std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "boot_bench: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  uint32_t memory = 512;
  std::string kernel_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (a == "--kernel")
      kernel_path = argv[i + 1];
    else if (a == "--memory")
      memory = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    else
      return std::fprintf(stderr, "usage: boot_bench [--runs N] [--kernel PATH] [--memory MIB]\n"),
             2;
  }
  if (kernel_path.empty()) {
    auto k = kernels::DefaultKernelPath();
    if (!k.ok()) return Die("kernel", k.status());
    kernel_path = *k;
  }
  auto kernel = kernels::ReadKernelImage(kernel_path);
  if (!kernel.ok()) return Die("kernel", kernel.status());
  std::string self_dir = fs::read_symlink("/proc/self/exe").parent_path().string();
  std::string cache =
      std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/swapchaos";
  std::string work =
      (fs::temp_directory_path() / ("swapchaos-bench-" + std::to_string(getpid()))).string();
  fs::create_directories(work);

  auto agent_image = kernels::BuildGuestImage(
      kernels::AgentImageSpec(*kernel, self_dir + "/swapchaos-agent"), cache);
  if (!agent_image.ok()) return Die("agent image", agent_image.status());
  auto probe_image = kernels::BuildGuestImage(kernels::ProbeImageSpec(), cache);
  if (!probe_image.ok()) return Die("probe image", probe_image.status());
  auto accel = controller::ChooseAccel(cache, kernel->path, *probe_image, work);
  if (!accel.ok()) return Die("acceleration", accel.status());
  std::printf("kernel %s, %s (%s), %u MiB, 1 vCPU, %d runs each\n", kernel->release.c_str(),
              accel->accel.c_str(), accel->reason.c_str(), memory, runs);
  std::printf("%-4s %16s %16s\n", "run", "minimal init s", "agent ready s");

  std::vector<double> floor_s, agent_s;
  for (int run = 0; run < runs; ++run) {
    // Both boots use the victim's exact QEMU shape (devices, NICs, memory);
    // only the initramfs differs.
    auto net = controller::CreateRunNetwork();
    if (!net.ok()) return Die("network", net.status());
    auto relay = controller::StartAgentRelay(**net, controller::GuestRole::kVictim, work);
    if (!relay.ok()) return Die("agent relay", relay.status());
    controller::QemuSpec spec = controller::VictimQemuSpec(**net, kernel->path, *agent_image,
                                                           memory, 1, accel->accel, {work, work});

    controller::QemuSpec probe = spec;
    probe.initrd = *probe_image;
    fs::remove(probe.console_path);
    auto floor = controller::SecondsToConsoleMarker(probe, controller::kProbeMarker,
                                                    std::chrono::seconds(120));
    if (!floor.ok()) return Die("minimal boot", floor.status());

    fs::remove(spec.console_path);
    auto vm = controller::QemuVm::Start(spec);
    if (!vm.ok()) return Die("agent boot", vm.status());
    controller::AgentClient agent((*relay)->target());
    auto info = agent.WaitReady(steady_clock::now() + std::chrono::seconds(300), [&] {
      return (*vm)->process().Running() ? absl::OkStatus() : absl::UnavailableError("QEMU exited");
    });
    if (!info.ok()) return Die("agent boot", info.status());
    double ready = std::chrono::duration<double>(steady_clock::now() - (*vm)->started()).count();
    (*vm)->process().Stop(std::chrono::milliseconds(0));

    floor_s.push_back(*floor);
    agent_s.push_back(ready);
    std::printf("%-4d %16.2f %16.2f\n", run + 1, *floor, ready);
  }
  double f = Median(floor_s), a = Median(agent_s);
  std::printf("median %14.2f %16.2f\n", f, a);
  std::printf("ratio agent/minimal: %.2f (target <= 1.3)\n", a / f);
  fs::remove_all(work);
  return 0;
}
