#ifndef SWAPCHAOS_KERNELS_KERNEL_IMAGE_H_
#define SWAPCHAOS_KERNELS_KERNEL_IMAGE_H_

#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::kernels {

// An x86 bzImage and what identifies it.
struct KernelImage {
  std::string path;
  std::string release;  // e.g. "6.1.0-57-cloud-amd64", from the image itself
  std::string version;  // the whole version string the image carries
  std::string sha256;
  std::string modules_dir;  // where its modules live; empty if none found
};

// Reads the boot protocol header of `path` (a bzImage). Fails with
// InvalidArgument naming the file when it is not one. `modules_dir` may be
// empty: then modules/lib/modules/<release> beside the image (a kernel of
// swapchaos's cache), else /lib/modules/<release>, is used when it exists.
absl::StatusOr<KernelImage> ReadKernelImage(const std::string& path,
                                            const std::string& modules_dir = "");

// The newest /boot/vmlinuz-*-cloud-amd64: Debian's linux-image-cloud-amd64.
absl::StatusOr<std::string> DefaultKernelPath();

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_KERNEL_IMAGE_H_
