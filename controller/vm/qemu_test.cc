#include "controller/vm/qemu.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_join.h"
#include "controller/vm/accel.h"
#include "controller/vm/qmp.h"
#include "gtest/gtest.h"
#include "kernels/guest_image.h"
#include "kernels/kernel_image.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

constexpr QemuFds kFds{.kernel = 20, .initrd = 21, .console = 22, .qmp = 23};

QemuSpec Spec() {
  QemuSpec s;
  s.name = "victim";
  s.kernel = "/boot/vmlinuz";
  s.initrd = "/tmp/i.cpio";
  s.append = "swapchaos.role=victim";
  s.memory_mib = 384;
  s.cpus = 2;
  s.nics = {{.id = "ctl",
             .mac = "52:54:00:5c:00:01",
             .host_port = 40001,
             .guest_ip = "10.0.2.15",
             .guest_port = 50051},
            {.id = "data0", .mac = "52:54:00:5c:00:02", .tap_fd = 9}};
  s.console_path = "/tmp/console.log";
  s.qmp_path = "/tmp/qmp.sock";
  s.log_path = "/tmp/qemu.log";
  return s;
}

TEST(QemuArgvTest, ControlNicIsRestrictedAndLoopbackOnly) {
  std::string cmd = absl::StrJoin(QemuArgv(Spec(), kFds), " ");
  EXPECT_NE(cmd.find("user,id=ctl,restrict=on,hostfwd=tcp:127.0.0.1:40001-10.0.2.15:50051"),
            std::string::npos)
      << cmd;
  EXPECT_NE(cmd.find("tap,id=data0,fd=9"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("virtio-net-pci,netdev=data0,mac=52:54:00:5c:00:02,romfile="),
            std::string::npos);
  EXPECT_NE(cmd.find("-m 384 -smp 2"), std::string::npos);
  EXPECT_NE(cmd.find("-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                     "resourcecontrol=deny"),
            std::string::npos);
  EXPECT_NE(cmd.find("tcg,thread=multi"), std::string::npos);
}

// A comma in a path must stay in the path, not start a QEMU option.
// QEMU gets its files open: no path reaches an option string (a comma in
// one once added options to -chardev), nor needs to be QEMU's to open.
TEST(QemuArgvTest, FilesAreHandedOpen) {
  QemuSpec s = Spec();
  s.console_path = "/tmp/x,path=/etc/y/console.log";
  s.qmp_path = "/tmp/a,b/qmp.sock";
  std::string cmd = absl::StrJoin(QemuArgv(s, kFds), " ");
  for (const std::string& path : {s.kernel, s.initrd, s.console_path, s.qmp_path}) {
    EXPECT_EQ(cmd.find(path), std::string::npos) << path << " in " << cmd;
  }
  EXPECT_NE(cmd.find("-kernel /proc/self/fd/20 -initrd /proc/self/fd/21"), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("-add-fd fd=22,set=1 -chardev file,id=console,path=/dev/fdset/1"),
            std::string::npos)
      << cmd;
  EXPECT_NE(cmd.find("-chardev socket,id=qmp,fd=23,server=on,wait=off "
                     "-mon chardev=qmp,mode=control"),
            std::string::npos)
      << cmd;
  EXPECT_EQ(absl::StrJoin(QemuArgv(s, {.kernel = 20, .initrd = 21, .console = 22}), " ")
                .find("qmp"),
            std::string::npos);
}

TEST(QemuArgvTest, KernelCommandLineKeepsTracesAndDisablesZswap) {
  std::vector<std::string> argv = QemuArgv(Spec(), kFds);
  auto it = std::find(argv.begin(), argv.end(), "-append");
  ASSERT_NE(it, argv.end());
  std::string append = *(it + 1);
  EXPECT_NE(append.find("loglevel=7"), std::string::npos);
  EXPECT_NE(append.find("zswap.enabled=0"), std::string::npos);
  EXPECT_NE(append.find("swapchaos.role=victim"), std::string::npos);
  EXPECT_EQ(append.find("quiet"), std::string::npos);
}

class QemuBootTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::UniqueTempDir() + "/qemu_boot_test";
    std::filesystem::create_directories(dir_);
    auto kernel = kernels::DefaultKernelPath();
    ASSERT_TRUE(kernel.ok()) << kernel.status();
    auto image = kernels::BuildGuestImage(kernels::ProbeImageSpec(), dir_ + "/cache");
    ASSERT_TRUE(image.ok()) << image.status();
    spec_.name = "probe";
    spec_.kernel = *kernel;
    spec_.initrd = *image;
    spec_.memory_mib = 256;
    spec_.console_path = dir_ + "/console.log";
    spec_.log_path = dir_ + "/qemu.log";
    std::filesystem::remove(spec_.console_path);
  }
  std::string dir_;
  QemuSpec spec_;
};

TEST_F(QemuBootTest, DefaultKernelReachesInitUnderTcg) {
  auto seconds = SecondsToConsoleMarker(spec_, kProbeMarker, std::chrono::seconds(120));
  ASSERT_TRUE(seconds.ok()) << seconds.status();
  EXPECT_GT(*seconds, 0.0);
}

TEST_F(QemuBootTest, QmpAnswersCommandsAndQuits) {
  // Unix socket paths are short (108 bytes): the test tree can be deeper.
  char sock_dir[] = "/tmp/swapchaos-qmp-XXXXXX";
  ASSERT_NE(mkdtemp(sock_dir), nullptr);
  spec_.qmp_path = std::string(sock_dir) + "/qmp.sock";
  spec_.nics = {{.id = "ctl",
                 .mac = "52:54:00:5c:00:01",
                 .host_port = test::FreeLoopbackPort(),
                 .guest_ip = "10.0.2.15",
                 .guest_port = 50051}};
  auto vm = QemuVm::Start(spec_);
  ASSERT_TRUE(vm.ok()) << vm.status();
  // Not root beside the kernel under test: nobody, once started by root.
  std::ifstream proc_status("/proc/" + std::to_string((*vm)->process().pid()) + "/status");
  std::string line;
  while (std::getline(proc_status, line) && !line.starts_with("Uid:")) {
  }
  std::string uid = geteuid() == 0 ? "65534" : std::to_string(geteuid());
  EXPECT_EQ(line, "Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid);
  auto qmp = QmpClient::Connect(spec_.qmp_path, std::chrono::seconds(10));
  ASSERT_TRUE(qmp.ok()) << qmp.status();
  auto status = (*qmp)->Execute("query-status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->find("\"status\""), std::string::npos) << *status;
  // A cable pull on the NIC QEMU knows, and a clear error for one it does not.
  EXPECT_TRUE((*qmp)->Execute("set_link", R"({"name":"ctl","up":false})").ok());
  auto bad = (*qmp)->Execute("set_link", R"({"name":"nosuch","up":false})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("nosuch"), std::string::npos) << bad.status();
  (*qmp)->Execute("quit").IgnoreError();
  EXPECT_TRUE((*vm)->process().WaitFor(std::chrono::seconds(10)));
  std::filesystem::remove_all(sock_dir);
}

TEST_F(QemuBootTest, QemuFailingToStartQuotesQemu) {
  spec_.kernel = dir_ + "/junk";
  std::ofstream(spec_.kernel) << "not a kernel";
  auto seconds = SecondsToConsoleMarker(spec_, kProbeMarker, std::chrono::seconds(30));
  ASSERT_FALSE(seconds.ok());
  EXPECT_EQ(seconds.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(seconds.status().message().find("exited with status 1 before the guest reached init: qemu: "),
            std::string::npos)
      << seconds.status();
}

TEST_F(QemuBootTest, FilesQemuCannotBeGivenAreNamed) {
  spec_.kernel = "/nonexistent/vmlinuz";
  auto vm = QemuVm::Start(spec_);
  ASSERT_FALSE(vm.ok());
  EXPECT_NE(vm.status().message().find("kernel /nonexistent/vmlinuz"), std::string::npos)
      << vm.status();
  spec_.kernel = *kernels::DefaultKernelPath();
  spec_.console_path = "/nonexistent/console.log";
  vm = QemuVm::Start(spec_);
  ASSERT_FALSE(vm.ok());
  EXPECT_NE(vm.status().message().find("/nonexistent/console.log"), std::string::npos)
      << vm.status();
}

// A root-only kernel image is still QEMU's to read, though QEMU is not root.
TEST_F(QemuBootTest, ReadsAKernelOnlyRootMayRead) {
  std::string copy = dir_ + "/vmlinuz";
  std::filesystem::copy_file(spec_.kernel, copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_read);
  spec_.kernel = copy;
  auto seconds = SecondsToConsoleMarker(spec_, kProbeMarker, std::chrono::seconds(120));
  ASSERT_TRUE(seconds.ok()) << seconds.status();
}

}  // namespace
}  // namespace swapchaos::controller
