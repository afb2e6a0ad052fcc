// A run's scratch directory (sockets, configs, the sparse swap image) and
// the sweep that removes those of controllers that died without cleaning
// up: a SIGKILLed controller's children and namespaces go with it, its
// files in $TMPDIR would not.
#ifndef SWAPCHAOS_CONTROLLER_RUN_WORK_DIR_H_
#define SWAPCHAOS_CONTROLLER_RUN_WORK_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// Owned while its holder lives: the directory holds a lock file the
// holder keeps flock()ed, which the kernel releases however it dies.
class WorkDir {
 public:
  // A new `swapchaos-XXXXXX` directory under `base`.
  static absl::StatusOr<std::unique_ptr<WorkDir>> Create(const std::string& base);
  // Removes the directory, then lets go of it.
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  WorkDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_;
};

// Removes every `swapchaos-*` directory under `base` that this user owns
// and whose lock is free (its owner is gone); returns how many. Those
// without a lock file (being created, or not a run's) are left alone.
int SweepAbandonedWorkDirs(const std::string& base);

// Where runs put their work directories: $TMPDIR, or /tmp when $TMPDIR is
// too long for the Unix socket paths inside (108 bytes at most).
std::string WorkDirBase();

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_RUN_WORK_DIR_H_
