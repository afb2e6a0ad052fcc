#include "controller/vm/accel.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "controller/vm/qemu.h"
#include "kernels/hash.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;

namespace {
constexpr std::chrono::seconds kProbeTimeout{30};

std::string HostKey() {
  utsname u{};
  uname(&u);
  kernels::Sha256 h;
  h.Update(absl::StrCat(u.nodename, "|", u.release, "|", u.version, "|", u.machine));
  return h.HexDigest().substr(0, 16);
}
}  // namespace

absl::StatusOr<AccelChoice> ChooseAccel(const std::string& cache_dir, const std::string& kernel,
                                        const std::string& probe_initrd,
                                        const std::string& work_dir,
                                        const std::string& kvm_device) {
  if (access(kvm_device.c_str(), R_OK | W_OK) != 0) {
    return AccelChoice{"tcg", absl::StrCat("no usable ", kvm_device)};
  }
  fs::path cached = fs::path(cache_dir) / "accel" / HostKey();
  if (std::ifstream in(cached); in) {
    AccelChoice c;
    std::getline(in, c.accel);
    if (c.accel == "kvm" || c.accel == "tcg") {
      c.reason = absl::StrCat("cached probe result (", cached.string(), ")");
      return c;
    }
  }
  QemuSpec spec;
  spec.name = "kvm-probe";
  spec.kernel = kernel;
  spec.initrd = probe_initrd;
  spec.memory_mib = 256;
  spec.accel = "kvm";
  spec.console_path = work_dir + "/kvm-probe-console.log";
  spec.log_path = work_dir + "/kvm-probe-qemu.log";
  auto seconds = SecondsToConsoleMarker(spec, kProbeMarker, kProbeTimeout);
  AccelChoice choice =
      seconds.ok()
          ? AccelChoice{"kvm", absl::StrCat("KVM probe booted to init in ", *seconds, " s")}
          : AccelChoice{"tcg", absl::StrCat("KVM probe failed: ", seconds.status().message())};
  std::error_code ec;
  fs::create_directories(cached.parent_path(), ec);
  std::ofstream(cached) << choice.accel << "\n";
  return choice;
}

}  // namespace swapchaos::controller
