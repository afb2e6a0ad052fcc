#include "controller/vm/nbd_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
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
std::optional<Credentials> ServerCredentials() {
  if (geteuid() != 0) return std::nullopt;
  for (const char* name : {"nbd", "nobody"}) {
    passwd pw;
    passwd* found = nullptr;
    char buf[1024];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
      return Credentials{pw.pw_uid, pw.pw_gid, {}};
    }
  }
  return std::nullopt;
}

// A file only the server's user reads and writes; errno on failure.
int CreateOwned(const std::string& path, const std::optional<Credentials>& owner) {
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
  const std::optional<Credentials> user = ServerCredentials();
  // The server's own directory, reached through `dir`, which its group
  // may cross (0710) but not list.
  const std::string home = o.dir + "/nbd";
  if ((mkdir(home.c_str(), 0700) != 0 && errno != EEXIST) ||
      (user && (chown(home.c_str(), user->uid, user->gid) != 0 ||
                chown(o.dir.c_str(), static_cast<uid_t>(-1), user->gid) != 0 ||
                chmod(o.dir.c_str(), 0710) != 0))) {
    return absl::UnavailableError(absl::StrCat("cannot prepare nbd-server's directory ", home,
                                               ": ", std::strerror(errno)));
  }
  std::string image = home + "/swap.img";
  std::string config = home + "/nbd-server.conf";
  int fd = CreateOwned(image, user);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(o.size_bytes)) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("cannot create swap image ", image, ": ", err));
  }
  close(fd);
  std::string text = absl::StrCat("[generic]\nlistenaddr = ", o.listen_ip, "\nport = ", o.port,
                                  "\n[", kExportName, "]\nexportname = ", image, "\n");
  fd = CreateOwned(config, user);
  if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::string err = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("cannot write ", config, ": ", err));
  }
  close(fd);
  auto p = Spawn(o, user);
  if (!p.ok()) return p.status();
  return std::unique_ptr<NbdServer>(new NbdServer(o, user, std::move(*p), image));
}

absl::Status NbdServer::Restart() {
  if (process_->Running()) {
    return absl::FailedPreconditionError("nbd-server is still running; kill it first");
  }
  auto p = Spawn(options_, user_);
  if (!p.ok()) return p.status();
  process_ = std::move(*p);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Subprocess>> NbdServer::Spawn(
    const Options& o, const std::optional<Credentials>& user) {
  std::string config = o.dir + "/nbd/nbd-server.conf";
  auto p = Subprocess::Spawn({.argv = {"nbd-server", "-d", "-C", config},
                              .log_path = o.log_path,
                              .netns_fd = o.ns != nullptr ? o.ns->fd() : -1,
                              .run_as = user});
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
  process_->Stop(std::chrono::milliseconds(1000));
  std::error_code ec;
  fs::remove(image_, ec);
}

}  // namespace swapchaos::controller
