#include "controller/vm/qmp.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace swapchaos::controller {
namespace {
constexpr int kReplyTimeoutMs = 10000;
}

absl::StatusOr<std::unique_ptr<QmpClient>> QmpClient::Connect(const std::string& path,
                                                              std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("QMP socket path too long: ", path));
  }
  std::strcpy(addr.sun_path, path.c_str());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::unique_ptr<QmpClient> c(new QmpClient(fd));
      auto greeting = c->ReadLine();
      if (!greeting.ok()) return greeting.status();
      auto caps = c->Execute("qmp_capabilities");
      if (!caps.ok()) return caps.status();
      return c;
    }
    int err = errno;
    close(fd);
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to QMP socket ", path, ": ", std::strerror(err)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

QmpClient::~QmpClient() { close(fd_); }

absl::StatusOr<std::string> QmpClient::ReadLine() {
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, kReplyTimeoutMs) <= 0) return absl::DeadlineExceededError("QMP: no reply");
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) return absl::UnavailableError("QMP: QEMU closed the connection");
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> QmpClient::Execute(const std::string& command,
                                               const std::string& arguments_json) {
  std::string msg = absl::StrCat("{\"execute\":\"", command, "\"");
  if (!arguments_json.empty()) absl::StrAppend(&msg, ",\"arguments\":", arguments_json);
  msg += "}\n";
  if (write(fd_, msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) {
    return absl::UnavailableError(absl::StrCat("QMP: cannot send ", command));
  }
  while (true) {
    auto line = ReadLine();
    if (!line.ok()) return line.status();
    if (line->find("\"event\"") != std::string::npos) continue;
    if (line->find("\"error\"") != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat("QMP ", command, " failed: ", *line));
    }
    if (line->find("\"return\"") != std::string::npos) return *line;
  }
}

}  // namespace swapchaos::controller
