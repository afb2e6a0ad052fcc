#include "controller/vm/nbd_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace fs = std::filesystem;

bool IsListening(pid_t pid, uint16_t port) {
  // The socket must be the process's own: another listener on the same port
  // in the namespace (a port already taken) must not pass for readiness.
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : fs::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), ec)) {
    std::string target = fs::read_symlink(fd.path(), ec).string();
    if (target.starts_with("socket:[")) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::ifstream in(absl::StrCat("/proc/", pid, "/net/tcp"));
  std::string line;
  std::getline(in, line);  // header
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retrans, uid, timeout, inode;
    f >> slot >> local >> remote >> state >> queues >> timer >> retrans >> uid >> timeout >> inode;
    if (state == "0A" && local.ends_with(want) && inodes.count(inode)) return true;  // LISTEN
  }
  return false;
}

namespace {

// Who serves the guest under test: Debian's nbd-server package makes the
// `nbd` user for it. A root controller does not lend the server its root;
// one that is not root runs it as itself.
std::optional<process::Credentials> ServerCredentials() {
  if (geteuid() != 0) return std::nullopt;
  for (const char* name : {"nbd", "nobody"}) {
    passwd pw;
    passwd* found = nullptr;
    char buf[1024];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
      return process::Credentials{pw.pw_uid, pw.pw_gid, {}};
    }
  }
  return std::nullopt;
}

// A file only the server's user reads and writes; errno on failure.
int CreateOwned(const std::string& path, const std::optional<process::Credentials>& owner) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (owner && fchown(fd, owner->uid, owner->gid) != 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NbdServer>> NbdServer::Start(const Options& o) {
  const std::optional<process::Credentials> user = ServerCredentials();
  std::string image = o.dir + "/swap.img";
  std::string config = o.dir + "/nbd-server.conf";
  int image_fd = CreateOwned(image, user);
  if (image_fd < 0 || ftruncate(image_fd, static_cast<off_t>(o.size_bytes)) != 0) {
    std::string err = std::strerror(errno);
    if (image_fd >= 0) close(image_fd);
    return absl::UnavailableError(absl::StrCat("cannot create swap image ", image, ": ", err));
  }
  // Both files reach the server as /proc/self/fd/N: it need not be able to
  // cross the run's root-only directory, or any above it.
  std::string text =
      absl::StrCat("[generic]\nlistenaddr = ", o.listen_ip, "\nport = ", o.port, "\n[",
                   kExportName, "]\nexportname = /proc/self/fd/", image_fd, "\n");
  int config_fd = CreateOwned(config, user);
  if (config_fd < 0 ||
      write(config_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::string err = std::strerror(errno);
    if (config_fd >= 0) close(config_fd);
    close(image_fd);
    return absl::UnavailableError(absl::StrCat("cannot write ", config, ": ", err));
  }
  std::unique_ptr<NbdServer> server(new NbdServer(o, user, image, config_fd, image_fd));
  if (absl::Status s = server->Restart(); !s.ok()) return s;
  return server;
}

absl::Status NbdServer::Restart() {
  if (process_ && process_->Running()) {
    return absl::FailedPreconditionError("nbd-server is still running; kill it first");
  }
  auto p = Spawn();
  if (!p.ok()) return p.status();
  process_ = std::move(*p);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<process::Subprocess>> NbdServer::Spawn() {
  const Options& o = options_;
  auto p = process::Subprocess::Spawn(
      {.argv = {"nbd-server", "-d", "-C", absl::StrCat("/proc/self/fd/", config_fd_)},
       .log_path = o.log_path,
       .keep_fds = {config_fd_, image_fd_},
       .netns_fd = o.ns != nullptr ? o.ns->fd() : -1,
       .run_as = user_});
  if (!p.ok()) return p.status();
  auto deadline = std::chrono::steady_clock::now() + o.ready_timeout;
  while (!IsListening((*p)->pid(), o.port)) {
    if (!(*p)->Running()) {
      return absl::UnavailableError(absl::StrCat("nbd-server ", (*p)->DescribeExit(),
                                                 " before listening on ", o.listen_ip, ":", o.port,
                                                 "; its output:\n", (*p)->LogTail()));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::UnavailableError(absl::StrCat("nbd-server did not listen on ", o.listen_ip, ":",
                                                 o.port, " within ", o.ready_timeout.count(),
                                                 " ms; its output:\n", (*p)->LogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return p;
}

NbdServer::~NbdServer() {
  if (process_) process_->Stop(std::chrono::milliseconds(1000));
  close(config_fd_);
  close(image_fd_);
  std::error_code ec;
  fs::remove(image_, ec);
}

}  // namespace swapchaos::controller
