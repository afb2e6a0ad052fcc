#include "agents/swap/swap.h"

#include <sys/random.h>
#include <sys/swap.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace swapchaos::agents::swap {

absl::Status WriteSwapHeader(int fd, uint64_t size_bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  uint64_t pages = size_bytes / page;
  // The kernel needs the header page plus at least 9 more (mkswap's minimum).
  if (pages < 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("swap area of ", size_bytes, " bytes is too small"));
  }
  if (pages - 1 > UINT32_MAX) {
    return absl::InvalidArgumentError("swap area too large for a version-1 header");
  }
  // union swap_header in include/linux/swap.h: 1024 boot bytes, then
  // version, last_page, nr_badpages, uuid[16], label[16]; the magic ends the page.
  std::vector<unsigned char> header(page, 0);
  uint32_t version = 1;
  uint32_t last_page = static_cast<uint32_t>(pages - 1);
  std::memcpy(&header[1024], &version, 4);
  std::memcpy(&header[1028], &last_page, 4);
  unsigned char uuid[16];
  if (getrandom(uuid, sizeof uuid, 0) != sizeof uuid) {
    return absl::InternalError("getrandom failed for the swap UUID");
  }
  uuid[6] = (uuid[6] & 0x0f) | 0x40;  // RFC 4122 version 4
  uuid[8] = (uuid[8] & 0x3f) | 0x80;
  std::memcpy(&header[1036], uuid, sizeof uuid);
  std::memcpy(&header[1052], "swapchaos", 9);
  std::memcpy(&header[page - 10], "SWAPSPACE2", 10);
  if (pwrite(fd, header.data(), page, 0) != static_cast<ssize_t>(page)) {
    return absl::UnavailableError(absl::StrCat("writing swap header: ", std::strerror(errno)));
  }
  if (fsync(fd) != 0) {
    return absl::UnavailableError(absl::StrCat("syncing swap header: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SwapOn(const std::string& path, int priority) {
  int flags = 0;
  if (priority >= 0) {
    flags = SWAP_FLAG_PREFER | ((priority << SWAP_FLAG_PRIO_SHIFT) & SWAP_FLAG_PRIO_MASK);
  }
  if (swapon(path.c_str(), flags) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("swapon ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace swapchaos::agents::swap
