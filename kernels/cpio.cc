#include "kernels/cpio.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace swapchaos::kernels {

namespace {
std::string_view Strip(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  return path;
}
}  // namespace

void CpioWriter::AddParents(std::string_view path) {
  path = Strip(path);
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    std::string_view dir = path.substr(0, slash);
    if (dirs_.count(dir) == 0) {
      dirs_.emplace(dir);
      Entry(dir, S_IFDIR | 0755, {});
    }
  }
}

void CpioWriter::AddDirectory(std::string_view path, uint32_t mode) {
  AddParents(path);
  if (dirs_.emplace(Strip(path)).second) Entry(Strip(path), S_IFDIR | mode, {});
}

void CpioWriter::AddFile(std::string_view path, std::string_view content, uint32_t mode) {
  AddParents(path);
  Entry(Strip(path), S_IFREG | mode, content);
}

absl::Status CpioWriter::AddHostFile(std::string_view path, const std::string& host_path,
                                     uint32_t mode) {
  std::ifstream in(host_path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", host_path));
  std::string content(std::istreambuf_iterator<char>(in), {});
  AddFile(path, content, mode);
  return absl::OkStatus();
}

void CpioWriter::AddSymlink(std::string_view path, std::string_view target) {
  AddParents(path);
  Entry(Strip(path), S_IFLNK | 0777, target);
}

void CpioWriter::AddCharDevice(std::string_view path, uint32_t major, uint32_t minor,
                               uint32_t mode) {
  AddParents(path);
  Entry(Strip(path), S_IFCHR | mode, {}, major, minor);
}

void CpioWriter::Finish() { Entry("TRAILER!!!", 0, {}); }

void CpioWriter::Entry(std::string_view path, uint32_t mode, std::string_view data,
                       uint32_t rdev_major, uint32_t rdev_minor) {
  char header[111];
  uint32_t ino = path == "TRAILER!!!" ? 0 : next_ino_++;
  uint32_t nlink = (mode & S_IFMT) == S_IFDIR ? 2 : 1;
  std::snprintf(header, sizeof header, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                ino, mode, 0u, 0u, nlink, 0u, static_cast<uint32_t>(data.size()), 0u, 0u,
                rdev_major, rdev_minor, static_cast<uint32_t>(path.size() + 1), 0u);
  out_.write(header, 110);
  out_.write(path.data(), static_cast<std::streamsize>(path.size()));
  out_.put('\0');
  written_ += 110 + path.size() + 1;
  Pad();
  out_.write(data.data(), static_cast<std::streamsize>(data.size()));
  written_ += data.size();
  Pad();
}

void CpioWriter::Pad() {
  while (written_ % 4 != 0) {
    out_.put('\0');
    ++written_;
  }
}

}  // namespace swapchaos::kernels
