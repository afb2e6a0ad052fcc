#include "kernels/kernel_image.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/hash.h"

namespace swapchaos::kernels {
namespace fs = std::filesystem;

namespace {
// x86 boot protocol (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, and
// at 0x20E the offset (minus 0x200) of a NUL-terminated version string.
constexpr size_t kHeaderMagicOffset = 0x202;
constexpr size_t kVersionPtrOffset = 0x20E;
constexpr size_t kSetupBase = 0x200;
constexpr size_t kHeaderBytes = 0x10200;  // the pointer is 16 bits
}  // namespace

absl::StatusOr<KernelImage> ReadKernelImage(const std::string& path,
                                            const std::string& modules_dir) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", path, ": no such file or not readable"));
  }
  std::vector<char> head(kHeaderBytes);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (head.size() < kVersionPtrOffset + 2 ||
      std::string_view(&head[kHeaderMagicOffset], 4) != "HdrS") {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", path, ": not an x86 bzImage (no \"HdrS\" boot header at 0x202)"));
  }
  uint16_t ptr = static_cast<uint8_t>(head[kVersionPtrOffset]) |
                 static_cast<uint16_t>(static_cast<uint8_t>(head[kVersionPtrOffset + 1]) << 8);
  size_t at = kSetupBase + ptr;
  if (ptr == 0 || at >= head.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", path, ": boot header has no kernel version string"));
  }
  KernelImage image;
  image.path = fs::absolute(path).string();
  auto end = std::find(head.begin() + static_cast<long>(at), head.end(), '\0');
  image.version.assign(head.begin() + static_cast<long>(at), end);
  image.release = image.version.substr(0, image.version.find(' '));
  if (image.release.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel ", path, ": empty kernel version string"));
  }
  auto digest = Sha256OfFile(path);
  if (!digest.ok()) return digest.status();
  image.sha256 = *digest;

  if (!modules_dir.empty()) {
    if (!fs::exists(fs::path(modules_dir) / "modules.dep")) {
      return absl::InvalidArgumentError(
          absl::StrCat("modules directory ", modules_dir, ": no modules.dep (run depmod?)"));
    }
    image.modules_dir = modules_dir;
  } else {
    // A kernel of swapchaos's cache carries its modules beside its image.
    for (fs::path root : {fs::path(path).parent_path() / "modules/lib/modules", fs::path("/lib/modules")}) {
      if (fs::exists(root / image.release / "modules.dep")) {
        image.modules_dir = (root / image.release).string();
        break;
      }
    }
  }
  return image;
}

absl::StatusOr<std::string> DefaultKernelPath() {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/boot", ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("vmlinuz-") && name.ends_with("-cloud-amd64")) {
      found.push_back(entry.path().string());
    }
  }
  if (found.empty()) {
    return absl::NotFoundError(
        "no default kernel: /boot/vmlinuz-*-cloud-amd64 is missing; run ./setup "
        "(it installs linux-image-cloud-amd64) or pass --kernel");
  }
  // Version-aware order, so 6.1.0-57 sorts after 6.1.0-9.
  std::sort(found.begin(), found.end(), [](const std::string& a, const std::string& b) {
    return strverscmp(a.c_str(), b.c_str()) < 0;
  });
  return found.back();
}

}  // namespace swapchaos::kernels
