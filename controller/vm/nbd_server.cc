#include "controller/vm/nbd_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
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

absl::StatusOr<std::unique_ptr<NbdServer>> NbdServer::Start(const Options& o) {
  std::string image = o.dir + "/swap.img";
  std::string config = o.dir + "/nbd-server.conf";
  {
    int fd = open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(o.size_bytes)) != 0) {
      std::string err = std::strerror(errno);
      if (fd >= 0) close(fd);
      return absl::UnavailableError(absl::StrCat("cannot create swap image ", image, ": ", err));
    }
    close(fd);
  }
  std::ofstream(config) << "[generic]\nlistenaddr = " << o.listen_ip << "\nport = " << o.port
                        << "\n[" << kExportName << "]\nexportname = " << image << "\n";
  auto p = Spawn(o);
  if (!p.ok()) return p.status();
  return std::unique_ptr<NbdServer>(new NbdServer(o, std::move(*p), image));
}

absl::Status NbdServer::Restart() {
  if (process_->Running()) {
    return absl::FailedPreconditionError("nbd-server is still running; kill it first");
  }
  auto p = Spawn(options_);
  if (!p.ok()) return p.status();
  process_ = std::move(*p);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Subprocess>> NbdServer::Spawn(const Options& o) {
  std::string config = o.dir + "/nbd-server.conf";
  auto p = Subprocess::Spawn(
      {{"nbd-server", "-d", "-C", config}, o.log_path, {}, o.ns != nullptr ? o.ns->fd() : -1});
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
