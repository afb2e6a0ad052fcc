#ifndef SWAPCHAOS_CONTROLLER_VM_ACCEL_H_
#define SWAPCHAOS_CONTROLLER_VM_ACCEL_H_

#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

struct AccelChoice {
  std::string accel;  // "kvm" or "tcg"
  std::string reason;
};

// KVM only where a guest really boots with it: /dev/kvm existing is not
// enough (on nested hosts guests hang after the boot loader). The probe boots
// `kernel` with `probe_initrd` (an init that prints a marker and powers off)
// under KVM with a timeout; its answer is cached per host in `cache_dir`.
// `kvm_device` is there for tests.
absl::StatusOr<AccelChoice> ChooseAccel(const std::string& cache_dir, const std::string& kernel,
                                        const std::string& probe_initrd,
                                        const std::string& work_dir,
                                        const std::string& kvm_device = "/dev/kvm");

// The probe image's init prints this once it runs.
inline constexpr char kProbeMarker[] = "swapchaos-probe: init reached";

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_ACCEL_H_
