#include "agents/workload/child.h"

#include <spawn.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace swapchaos::agents::workload {

absl::StatusOr<pid_t> SpawnChild(const std::string& exe, const std::vector<std::string>& args,
                                 int fd) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, 3);  // clears close-on-exec, even if fd is 3
  pid_t pid = 0;
  int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    return absl::ResourceExhaustedError(absl::StrCat("starting ", args.empty() ? exe : args[0],
                                                     " (", exe, "): ", std::strerror(err)));
  }
  return pid;
}

void RunIfChild(int argc, char** argv) {
  if (argc < 2) return;
  if (std::strcmp(argv[1], "--workload-task") == 0) RunWorkloadTaskChild(argc, argv);
  if (std::strcmp(argv[1], "--spike-child") == 0) RunSpikeChild();
}

void BecomeExpendableChild(const char* name) {
  prctl(PR_SET_NAME, name);
  if (FILE* f = std::fopen("/proc/self/oom_score_adj", "w")) {
    std::fputs("1000", f);
    std::fclose(f);
  }
}

}  // namespace swapchaos::agents::workload
