#ifndef SWAPCHAOS_KERNELS_GUEST_IMAGE_H_
#define SWAPCHAOS_KERNELS_GUEST_IMAGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/kernel_image.h"
#include "kernels/modules.h"

namespace swapchaos::kernels {

// Everything that goes into one guest initramfs. Two shapes exist: the agent
// image every run boots, and the probe image (an init that powers off at
// once) for the acceleration probe and the boot benchmark's baseline.
struct GuestImageSpec {
  std::string modules_dir;  // the kernel's; unused when `modules` is empty
  std::vector<ModuleRequest> modules;
  std::string agent;  // host path of swapchaos-agent; empty for none
  // More host programs for the guest's /usr/bin, with their libraries (the
  // benchmarks' tc).
  std::vector<std::string> tools;
  std::string busybox = "/bin/busybox";
  std::string init_script;
};

// The modules a run's guests need: virtio NICs, NBD, and the qdiscs,
// classifiers and actions the network faults use.
std::vector<ModuleRequest> GuestModules();

GuestImageSpec AgentImageSpec(const KernelImage& kernel, const std::string& agent,
                              std::vector<std::string> tools = {});
GuestImageSpec ProbeImageSpec();

// Builds the initramfs (uncompressed newc cpio: TCG decompresses slowly) into
// `cache_dir`, named by the SHA-256 of every input's content, and returns its
// path. An image already there is reused; a new one appears atomically, so a
// crash never leaves a half-written image under a valid name.
absl::StatusOr<std::string> BuildGuestImage(const GuestImageSpec& spec,
                                            const std::string& cache_dir);

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_GUEST_IMAGE_H_
