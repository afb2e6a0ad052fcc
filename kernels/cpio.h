#ifndef SWAPCHAOS_KERNELS_CPIO_H_
#define SWAPCHAOS_KERNELS_CPIO_H_

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace swapchaos::kernels {

// Writes an uncompressed "newc" cpio archive, the format the kernel unpacks
// as initramfs. Parent directories are added on first use (the kernel does
// not create them), timestamps are zero so equal inputs give equal bytes,
// and device nodes need no privileges since they are only described.
class CpioWriter {
 public:
  explicit CpioWriter(std::ostream& out) : out_(out) {}

  void AddDirectory(std::string_view path, uint32_t mode = 0755);
  void AddFile(std::string_view path, std::string_view content, uint32_t mode = 0644);
  // Copies a host file's bytes; NotFound names the host path.
  absl::Status AddHostFile(std::string_view path, const std::string& host_path, uint32_t mode);
  void AddSymlink(std::string_view path, std::string_view target);
  void AddCharDevice(std::string_view path, uint32_t major, uint32_t minor, uint32_t mode = 0600);
  // Writes the trailer; the archive is complete afterwards.
  void Finish();

 private:
  void AddParents(std::string_view path);
  void Entry(std::string_view path, uint32_t mode, std::string_view data, uint32_t rdev_major = 0,
             uint32_t rdev_minor = 0);
  void Pad();

  std::ostream& out_;
  std::set<std::string, std::less<>> dirs_;
  uint64_t written_ = 0;
  uint32_t next_ino_ = 1;
};

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_CPIO_H_
