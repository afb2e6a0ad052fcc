#ifndef SWAPCHAOS_KERNELS_HASH_H_
#define SWAPCHAOS_KERNELS_HASH_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace swapchaos::kernels {

// Incremental SHA-256, for content-addressed caches and kernel identity.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Adds the file's bytes. Fails if it cannot be read.
  absl::Status UpdateFile(const std::string& path);
  // Lower-case hex digest; the object is spent afterwards.
  std::string HexDigest();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace swapchaos::kernels

#endif  // SWAPCHAOS_KERNELS_HASH_H_
