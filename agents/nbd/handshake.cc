#include "agents/nbd/handshake.h"

#include <arpa/inet.h>
#include <endian.h>
#include <fcntl.h>
#include <linux/nbd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace swapchaos::agents::nbd {
namespace {

// NBD protocol constants (doc/proto.md of the nbd project).
constexpr uint64_t kNbdMagic = 0x4e42444d41474943ULL;  // "NBDMAGIC"
constexpr uint64_t kIHaveOpt = 0x49484156454F5054ULL;  // "IHAVEOPT"
constexpr uint64_t kOptReplyMagic = 0x0003e889045565a9ULL;
constexpr uint16_t kFlagFixedNewstyle = 1 << 0;
constexpr uint16_t kFlagNoZeroes = 1 << 1;
constexpr uint32_t kOptExportName = 1;
constexpr uint32_t kOptGo = 7;
constexpr uint32_t kRepAck = 1;
constexpr uint32_t kRepInfo = 3;
constexpr uint32_t kRepErrBit = 1u << 31;
constexpr uint32_t kRepErrUnsup = kRepErrBit | 1;
constexpr uint32_t kRepErrUnknown = kRepErrBit | 6;
constexpr uint16_t kInfoExport = 0;
constexpr uint16_t kInfoBlockSize = 3;

std::string Errno(std::string_view what) {
  return absl::StrCat(std::string(what), ": ", std::strerror(errno));
}

absl::Status SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
    return absl::InternalError(Errno("setsockopt timeouts"));
  }
  return absl::OkStatus();
}

absl::Status ReadExact(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r == 0) return absl::UnavailableError("NBD server closed the connection during handshake");
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(Errno("NBD handshake read"));
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status WriteExact(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(Errno("NBD handshake write"));
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

template <typename T>
void PutBe(std::string& out, T v) {
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

template <typename T>
T GetBe(const unsigned char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p[i]);
  return v;
}

template <typename T>
absl::StatusOr<T> ReadBe(int fd) {
  unsigned char buf[sizeof(T)];
  if (absl::Status s = ReadExact(fd, buf, sizeof buf); !s.ok()) return s;
  return GetBe<T>(buf);
}

std::string Option(uint32_t opt, const std::string& payload) {
  std::string out;
  PutBe<uint64_t>(out, kIHaveOpt);
  PutBe<uint32_t>(out, opt);
  PutBe<uint32_t>(out, static_cast<uint32_t>(payload.size()));
  return out + payload;
}

absl::StatusOr<NbdExport> ExportNameFallback(int fd, std::string_view name, bool no_zeroes) {
  if (absl::Status s = WriteExact(fd, Option(kOptExportName, std::string(name))); !s.ok()) {
    return s;
  }
  unsigned char buf[10];
  if (absl::Status s = ReadExact(fd, buf, sizeof buf); !s.ok()) return s;
  NbdExport e;
  e.size_bytes = GetBe<uint64_t>(buf);
  e.transmission_flags = GetBe<uint16_t>(buf + 8);
  if (!no_zeroes) {
    unsigned char zeroes[124];
    if (absl::Status s = ReadExact(fd, zeroes, sizeof zeroes); !s.ok()) return s;
  }
  return e;
}

absl::StatusOr<NbdExport> NegotiateLocked(int fd, std::string_view export_name) {
  auto magic = ReadBe<uint64_t>(fd);
  if (!magic.ok()) return magic.status();
  auto opt_magic = ReadBe<uint64_t>(fd);
  if (!opt_magic.ok()) return opt_magic.status();
  if (*magic != kNbdMagic || *opt_magic != kIHaveOpt) {
    return absl::FailedPreconditionError("peer is not a newstyle NBD server (bad greeting magic)");
  }
  auto server_flags = ReadBe<uint16_t>(fd);
  if (!server_flags.ok()) return server_flags.status();
  if ((*server_flags & kFlagFixedNewstyle) == 0) {
    return absl::FailedPreconditionError("NBD server does not speak fixed newstyle");
  }
  bool no_zeroes = (*server_flags & kFlagNoZeroes) != 0;
  std::string client_flags;
  PutBe<uint32_t>(client_flags, kFlagFixedNewstyle | (no_zeroes ? kFlagNoZeroes : 0));
  if (absl::Status s = WriteExact(fd, client_flags); !s.ok()) return s;

  std::string go;
  PutBe<uint32_t>(go, static_cast<uint32_t>(export_name.size()));
  go.append(export_name);
  PutBe<uint16_t>(go, 1);
  PutBe<uint16_t>(go, kInfoBlockSize);
  if (absl::Status s = WriteExact(fd, Option(kOptGo, go)); !s.ok()) return s;

  NbdExport e;
  bool have_export = false;
  while (true) {
    unsigned char head[20];
    if (absl::Status s = ReadExact(fd, head, sizeof head); !s.ok()) return s;
    uint64_t reply_magic = GetBe<uint64_t>(head);
    uint32_t type = GetBe<uint32_t>(head + 12);
    uint32_t len = GetBe<uint32_t>(head + 16);
    if (reply_magic != kOptReplyMagic) {
      return absl::FailedPreconditionError("bad NBD option reply magic");
    }
    if (len > (1u << 20)) return absl::FailedPreconditionError("NBD option reply too long");
    std::vector<unsigned char> data(len);
    if (absl::Status s = ReadExact(fd, data.data(), len); !s.ok()) return s;
    if (type == kRepErrUnsup) return ExportNameFallback(fd, export_name, no_zeroes);
    if (type == kRepErrUnknown) {
      return absl::NotFoundError(
          absl::StrCat("NBD server has no export named \"", std::string(export_name), "\""));
    }
    if (type & kRepErrBit) {
      return absl::FailedPreconditionError(
          absl::StrCat("NBD server refused NBD_OPT_GO (error ", type & ~kRepErrBit,
                       "): ", std::string(data.begin(), data.end())));
    }
    if (type == kRepInfo && len >= 2) {
      uint16_t info = GetBe<uint16_t>(data.data());
      if (info == kInfoExport && len >= 12) {
        e.size_bytes = GetBe<uint64_t>(data.data() + 2);
        e.transmission_flags = GetBe<uint16_t>(data.data() + 10);
        have_export = true;
      } else if (info == kInfoBlockSize && len >= 14) {
        e.preferred_block_size = GetBe<uint32_t>(data.data() + 6);
      }
    } else if (type == kRepAck) {
      if (!have_export) {
        return absl::FailedPreconditionError("NBD server acknowledged GO without export info");
      }
      return e;
    }
  }
}

}  // namespace

absl::StatusOr<int> ConnectTcp(const std::string& host, uint16_t port, int timeout_ms) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", host));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(Errno("socket"));
  std::string where = absl::StrCat(host, ":", port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    std::string msg = Errno(absl::StrCat("connect to NBD server ", where));
    close(fd);
    return absl::UnavailableError(msg);
  }
  pollfd p{fd, POLLOUT, 0};
  int ready = poll(&p, 1, timeout_ms);
  int err = 0;
  socklen_t len = sizeof err;
  if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to NBD server ", where, ": ",
                     ready == 0 ? "timed out" : std::strerror(err != 0 ? err : errno)));
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

absl::StatusOr<NbdExport> Negotiate(int fd, std::string_view export_name, int timeout_ms) {
  if (absl::Status s = SetTimeouts(fd, timeout_ms); !s.ok()) return s;
  auto e = NegotiateLocked(fd, export_name);
  if (absl::Status s = SetTimeouts(fd, 0); !s.ok()) return s;
  return e;
}

}  // namespace swapchaos::agents::nbd
