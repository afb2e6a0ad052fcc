// The controller's socket: 0600 from the start, and even when its mode is
// opened up, a peer that is neither root nor the controller's user is
// refused by its kernel-given credentials before gRPC sees it.
#include "controller/service/listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "controller/service/service.h"
#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

// 0: the peer was let in and sent bytes without the socket closing on it;
// 1: the connection was closed at once; 2: connect failed.
int ConnectAndProbe(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 2;
  // A refused peer reads EOF; an admitted one gets gRPC's HTTP/2 settings.
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  return n > 0 ? 0 : 1;
}

TEST(PeerCheckedListenerTest, OnlyRootAndTheOwnerGetIn) {
  // Under /tmp, not the build tree: the other user must pass through every
  // directory above the socket, and a clone may sit under a root-only one
  // (/root, a CI's mktemp -d).
  char tmpl[] = "/tmp/swapchaos-listener.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/c.sock";
  auto store = Store::Open(dir + "/store.db");
  ASSERT_TRUE(store.ok()) << store.status();
  ControllerService service(**store, BootEnv{});
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_TRUE(server);
  std::ostringstream log;
  auto listener = PeerCheckedListener::Bind(path, &log);
  ASSERT_TRUE(listener.ok()) << listener.status();
  (*listener)->Serve(server.get());

  struct stat st{};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Root (the test's user) is served over gRPC as before.
  auto stub =
      Controller::NewStub(grpc::CreateChannel("unix:" + path, grpc::InsecureChannelCredentials()));
  GetRunRequest get;
  get.set_id(99);
  RunRecord record;
  grpc::ClientContext ctx;
  EXPECT_EQ(stub->GetRun(&ctx, get, &record).error_code(), grpc::StatusCode::NOT_FOUND);

  // Another user, with the file system letting it through, is closed on.
  chmod(dir.c_str(), 0755);
  chmod(path.c_str(), 0666);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    _exit(ConnectAndProbe(path));
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  // Logged before the close the child saw.
  EXPECT_NE(log.str().find("refused a connection from uid 65534 (pid " + std::to_string(child)),
            std::string::npos)
      << log.str();

  // Root still gets in afterwards.
  grpc::ClientContext ctx2;
  EXPECT_EQ(stub->GetRun(&ctx2, get, &record).error_code(), grpc::StatusCode::NOT_FOUND);

  listener->reset();
  EXPECT_FALSE(fs::exists(path));
  server->Shutdown();
  fs::remove_all(dir);
}

TEST(PeerCheckedListenerTest, BadPathsAreNamed) {
  std::ostringstream log;
  auto too_long = PeerCheckedListener::Bind("/tmp/" + std::string(200, 'x'), &log);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("socket path must be"), std::string::npos);
  auto missing = PeerCheckedListener::Bind("/nonexistent-dir/c.sock", &log);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("/nonexistent-dir/c.sock: No such file"),
            std::string::npos)
      << missing.status();
}

}  // namespace
}  // namespace swapchaos::controller
