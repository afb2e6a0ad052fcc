#include "process/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace swapchaos::process {

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return absl::InvalidArgumentError("empty command line");
  int log = open(o.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open log ", o.log_path, ": ", std::strerror(errno)));
  }
  // The child reports a failed exec through this pipe; success closes it.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    close(log);
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> argv;
  for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t parent = getpid();
  std::vector<int> keep = o.keep_fds;
  keep.push_back(report[1]);  // closes on exec; until then it carries exec errors
  keep.push_back(log);
  std::sort(keep.begin(), keep.end());

  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    close(report[0]);
    close(report[1]);
    return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    auto fail = [&](int err) {
      (void)!write(report[1], &err, sizeof err);
      _exit(127);
    };
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the controller died before prctl
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (o.netns_fd >= 0 && setns(o.netns_fd, CLONE_NEWNET) != 0) fail(errno);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) {
      fail(errno);
    }
    if (o.run_as) {
      if (setgroups(o.run_as->groups.size(), o.run_as->groups.data()) != 0 ||
          setgid(o.run_as->gid) != 0 || setuid(o.run_as->uid) != 0) {
        fail(errno);
      }
      // A change of credentials clears the parent-death signal.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
    }
    // Close whatever we inherited ourselves without CLOEXEC (a test runner's
    // descriptors, say): QEMU must hold only its own taps.
    unsigned int from = 3;
    for (int fd : keep) {
      if (static_cast<unsigned int>(fd) > from)
        close_range(from, static_cast<unsigned int>(fd) - 1, 0);
      from = static_cast<unsigned int>(fd) + 1;
    }
    close_range(from, ~0U, 0);
    for (int fd : o.keep_fds) {
      int flags = fcntl(fd, F_GETFD);
      if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) fail(errno);
    }
    execvp(argv[0], argv.data());
    fail(errno);
  }
  close(log);
  close(report[1]);
  int err = 0;
  ssize_t n;
  do {
    n = read(report[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  std::string name = o.argv[0].substr(o.argv[0].rfind('/') + 1);
  if (n == sizeof err) {
    waitpid(pid, nullptr, 0);
    return absl::NotFoundError(absl::StrCat("cannot run ", o.argv[0], ": ", std::strerror(err)));
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid, name, o.log_path));
}

Subprocess::~Subprocess() { Stop(std::chrono::milliseconds(0)); }

bool Subprocess::Running() {
  if (wait_status_) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) wait_status_ = status;
  return !wait_status_;
}

bool Subprocess::WaitFor(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void Subprocess::Signal(int sig) {
  if (Running()) kill(pid_, sig);
}

void Subprocess::Stop(std::chrono::milliseconds grace) {
  if (!Running()) return;
  if (grace.count() > 0) {
    kill(-pid_, SIGTERM);
    if (WaitFor(grace)) return;
  }
  kill(-pid_, SIGKILL);
  int status;
  if (waitpid(pid_, &status, 0) == pid_) wait_status_ = status;
}

std::string Subprocess::DescribeExit() {
  if (Running()) return "running";
  if (WIFEXITED(*wait_status_))
    return absl::StrCat("exited with status ", WEXITSTATUS(*wait_status_));
  return absl::StrCat("killed by signal ", WTERMSIG(*wait_status_));
}

std::string Subprocess::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

namespace {

// RunToEnd, its failure naming the output file only when `log_kept`: the
// caller keeps it for the user to read.
absl::Status Run(const SpawnOptions& options, std::chrono::seconds timeout,
                 const std::function<bool()>& stopped, bool log_kept) {
  auto p = Subprocess::Spawn(options);
  if (!p.ok()) return p.status();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string why;
  while (!(*p)->WaitFor(std::chrono::milliseconds(20))) {
    if (stopped && stopped()) {
      why = "stopped on request";
    } else if (std::chrono::steady_clock::now() >= deadline) {
      why = absl::StrCat("took more than ", timeout.count(), " s");
    } else {
      continue;
    }
    (*p)->Stop(std::chrono::milliseconds(2000));
    break;
  }
  std::string how = (*p)->DescribeExit();
  if (why.empty() && how == "exited with status 0") return absl::OkStatus();
  // The program's name, past env(1) and its assignments.
  std::string name = options.argv[0];
  for (const std::string& a : options.argv) {
    if (a != "env" && a.find('=') == std::string::npos) {
      name = a;
      break;
    }
  }
  std::string message =
      absl::StrCat(name, " ", why.empty() ? how : why,
                   log_kept ? absl::StrCat(" (output: ", options.log_path, ")") : "", ":\n",
                   (*p)->LogTail(1500));
  return stopped && stopped() ? absl::CancelledError(message) : absl::AbortedError(message);
}

}  // namespace

absl::Status RunToEnd(const SpawnOptions& options, std::chrono::seconds timeout,
                      const std::function<bool()>& stopped) {
  return Run(options, timeout, stopped, /*log_kept=*/true);
}

absl::StatusOr<std::string> OutputOf(const std::vector<std::string>& argv,
                                     std::chrono::seconds timeout) {
  char path[] = "/tmp/swapchaos-output-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("mkstemp: ", std::strerror(errno)));
  close(fd);
  // The file is deleted below: the failure carries the output's tail instead.
  absl::Status s = Run({.argv = argv, .log_path = path}, timeout, nullptr, /*log_kept=*/false);
  std::ifstream in(path, std::ios::binary);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  unlink(path);
  if (!s.ok()) return s;
  return out;
}

}  // namespace swapchaos::process
