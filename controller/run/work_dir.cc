#include "controller/run/work_dir.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;

namespace {

constexpr char kPrefix[] = "swapchaos-";
constexpr char kLockName[] = "owner.lock";

}  // namespace

absl::StatusOr<std::unique_ptr<WorkDir>> WorkDir::Create(const std::string& base) {
  std::string tmpl = (fs::path(base) / absl::StrCat(kPrefix, "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot create a work directory in ", base, ": ", std::strerror(errno)));
  }
  // Locked before it has its name: a sweep never sees an unlocked
  // owner.lock of a live run.
  std::string pending = tmpl + "/.owner.lock";
  int fd = open(pending.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      rename(pending.c_str(), (tmpl + "/" + kLockName).c_str()) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) close(fd);
    std::error_code ec;
    fs::remove_all(tmpl, ec);
    return absl::UnavailableError(absl::StrCat("cannot lock work directory ", tmpl, ": ", why));
  }
  return std::unique_ptr<WorkDir>(new WorkDir(tmpl, fd));
}

WorkDir::~WorkDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  close(lock_fd_);
}

int SweepAbandonedWorkDirs(const std::string& base) {
  int swept = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(base, ec)) {
    const std::string name = e.path().filename().string();
    // Our own directories only: /tmp is everyone's, and a directory
    // another user made is not ours to remove, whatever it holds.
    struct stat st;
    if (!name.starts_with(kPrefix) || lstat(e.path().c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
      continue;
    }
    // O_NOFOLLOW: another user's symlink named owner.lock locks nothing here.
    int fd = open((e.path() / kLockName).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      fs::remove_all(e.path(), ec);
      if (!ec) ++swept;
    }
    close(fd);
  }
  return swept;
}

std::string WorkDirBase() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec || base.string().size() > 64) base = "/tmp";
  return base.string();
}

}  // namespace swapchaos::controller
