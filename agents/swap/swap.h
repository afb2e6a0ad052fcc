#ifndef SWAPCHAOS_AGENTS_SWAP_SWAP_H_
#define SWAPCHAOS_AGENTS_SWAP_SWAP_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace swapchaos::agents::swap {

// What mkswap writes: a version-1 swap header (SWAPSPACE2) covering
// `size_bytes`, written through `fd` and synced. Done here rather than by a
// mkswap binary so the victim needs no util-linux.
absl::Status WriteSwapHeader(int fd, uint64_t size_bytes);

// swapon(2) with an explicit priority (-1 keeps the kernel's default).
absl::Status SwapOn(const std::string& path, int priority);

}  // namespace swapchaos::agents::swap

#endif  // SWAPCHAOS_AGENTS_SWAP_SWAP_H_
