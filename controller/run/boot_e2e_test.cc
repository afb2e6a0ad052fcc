// End to end on real QEMU (TCG here), the default kernel and nbd-server: what
// `swapchaos boot` promises, checked from its results and from the host.
#include <google/protobuf/util/json_util.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "swapchaos/agent.pb.h"
#include "swapchaos/controller.pb.h"
#include "swapchaos/kernel.pb.h"
#include "testing/cli.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

std::vector<agent::Sample> ReadSamples(const std::string& path) {
  std::vector<agent::Sample> out;
  std::istringstream lines(test::ReadFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    agent::Sample s;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
    out.push_back(s);
  }
  return out;
}

uint64_t Vm(const agent::Sample& s, const std::string& key) {
  auto it = s.vmstat().find(key);
  return it == s.vmstat().end() ? 0 : it->second;
}

class BootE2ETest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::UniqueTempDir();
    out_ = dir_ + "/run";
    namespaces_before_ = test::NetNamespaces();
  }
  // Nothing of the run may outlive the command: no process, no namespace.
  void ExpectNothingLeft() {
    EXPECT_TRUE(test::ProcessesMentioning(out_).empty());
    EXPECT_EQ(test::NetNamespaces(), namespaces_before_);
  }
  std::vector<std::string> BootArgs(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"boot",   "--out", out_,          "--memory", "384",
                                     "--cpus", "1",     "--swap-size", "1G"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // Waits until the run streams telemetry, i.e. swap is on.
  bool WaitForTelemetry(process::Subprocess& p) {
    for (int i = 0; i < 1200 && p.Running(); ++i) {
      if (fs::exists(out_ + "/telemetry.jsonl") && fs::file_size(out_ + "/telemetry.jsonl") > 0) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
  std::string dir_, out_;
  std::set<std::string> namespaces_before_;
};

TEST_F(BootE2ETest, SwapsOverNbdThroughTheWireUnderPressure) {
  int rc = test::RunCli(BootArgs({"--duration", "40", "--spike", "600"}), dir_ + "/log",
                        std::chrono::seconds(420));
  std::string log = test::ReadFile(dir_ + "/log");
  ASSERT_EQ(rc, 0) << log << test::ReadFile(out_ + "/console.log");

  std::vector<agent::Sample> victim = ReadSamples(out_ + "/telemetry.jsonl");
  ASSERT_GE(victim.size(), 20u);
  // /proc/swaps in the victim lists the NBD device.
  bool listed = false;
  for (const auto& sw : victim.front().swaps()) listed |= sw.filename() == "/dev/nbd0";
  EXPECT_TRUE(listed) << victim.front().DebugString();
  // Swap is really used: pages went out, and swap usage grew.
  uint64_t out_pages = Vm(victim.back(), "pswpout") - Vm(victim.front(), "pswpout");
  EXPECT_GT(out_pages, 10000u) << "pswpout barely rose";
  EXPECT_LT(victim.back().meminfo_kib().at("SwapFree"),
            victim.front().meminfo_kib().at("SwapFree"));

  // Those pages crossed the wire: in on its victim side, out on its server side.
  std::vector<agent::Sample> wire = ReadSamples(out_ + "/wire-telemetry.jsonl");
  ASSERT_GE(wire.size(), 2u);
  uint64_t swapped_bytes = out_pages * 4096;
  uint64_t wire_in =
      wire.back().net_dev().at("data0").rx_bytes() - wire.front().net_dev().at("data0").rx_bytes();
  uint64_t wire_out =
      wire.back().net_dev().at("data1").tx_bytes() - wire.front().net_dev().at("data1").tx_bytes();
  EXPECT_GE(wire_in, swapped_bytes * 9 / 10);
  EXPECT_GE(wire_out, swapped_bytes * 9 / 10);

  RunMeta meta;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(test::ReadFile(out_ + "/meta.json"), &meta).ok());
  EXPECT_EQ(meta.outcome(), "completed");
  EXPECT_TRUE(meta.tool().starts_with("swapchaos ")) << meta.tool();
  EXPECT_EQ(meta.kernel().sha256().size(), 64u);
  EXPECT_FALSE(meta.kernel().release().empty());
  EXPECT_TRUE(meta.accel() == "tcg" || meta.accel() == "kvm");
  EXPECT_GT(meta.boot_to_ready_s(), 0.0);
  EXPECT_EQ(meta.swap().device(), "/dev/nbd0");
  // Consoles are whole, from the first line of the kernel.
  EXPECT_NE(test::ReadFile(out_ + "/console.log").find("Linux version"), std::string::npos);
  EXPECT_NE(test::ReadFile(out_ + "/wire-console.log").find("Linux version"), std::string::npos);
  ExpectNothingLeft();
}

TEST_F(BootE2ETest, CtrlCShutsDownInOrder) {
  auto p = test::StartCli(BootArgs({}), dir_ + "/log");
  ASSERT_TRUE(p);
  ASSERT_TRUE(WaitForTelemetry(*p)) << test::ReadFile(dir_ + "/log");
  p->Signal(SIGINT);
  ASSERT_TRUE(p->WaitFor(std::chrono::seconds(60)));
  EXPECT_EQ(p->DescribeExit(), "exited with status 0") << test::ReadFile(dir_ + "/log");
  EXPECT_NE(test::ReadFile(out_ + "/meta.json").find("\"interrupted\""), std::string::npos);
  ExpectNothingLeft();
}

TEST_F(BootE2ETest, SigkilledControllerTakesItsChildrenAndNamespaceAlong) {
  auto p = test::StartCli(BootArgs({}), dir_ + "/log");
  ASSERT_TRUE(p);
  ASSERT_TRUE(WaitForTelemetry(*p)) << test::ReadFile(dir_ + "/log");
  EXPECT_FALSE(test::ProcessesMentioning(out_).empty()) << "no QEMU found while running";
  p->Signal(SIGKILL);
  ASSERT_TRUE(p->WaitFor(std::chrono::seconds(10)));
  bool clean = false;
  for (int i = 0; i < 100 && !clean; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    clean = test::ProcessesMentioning(out_).empty() && test::NetNamespaces() == namespaces_before_;
  }
  EXPECT_TRUE(clean);
  ExpectNothingLeft();
  // No meta.json: a killed run is never mistaken for a finished one.
  EXPECT_FALSE(fs::exists(out_ + "/meta.json"));
}

// A copy of the default kernel, broken: its header still reads as a bzImage
// of the same release, so only booting it can tell.
std::string BrokenKernel(const std::string& dir, size_t keep_bytes, bool zero_middle) {
  std::string path = dir + "/vmlinuz-broken";
  std::string image = test::ReadFile(
      test::ShellOutput("ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n 1 | tr -d '\\n'"));
  EXPECT_GT(image.size(), 8u << 20);
  if (zero_middle) std::fill(image.begin() + (4 << 20), image.begin() + (6 << 20), '\0');
  std::ofstream(path, std::ios::binary) << image.substr(0, keep_bytes);
  return path;
}

// A kernel that does not boot is the kernel's failure (exit 1), recorded as
// a finished run whose meta.json says how, never bad input or ours.
RunMeta KernelFailureRecorded(const std::string& out) {
  RunMeta meta;
  EXPECT_TRUE(
      google::protobuf::util::JsonStringToMessage(test::ReadFile(out + "/meta.json"), &meta).ok());
  return meta;
}

TEST_F(BootE2ETest, KernelThatResetsBeforeInitIsTheKernelsFailure) {
  std::string kernel = BrokenKernel(dir_, 4 << 20, false);  // truncated: resets at once
  int rc = test::RunCli(BootArgs({"--kernel", kernel, "--duration", "5"}), dir_ + "/log",
                        std::chrono::seconds(120));
  std::string log = test::ReadFile(dir_ + "/log");
  EXPECT_EQ(rc, 1) << log;
  EXPECT_NE(log.find("the kernel under test failed: kernel did not boot: reset before init"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("stopped (reset, panic or power-off) before reaching init"), std::string::npos)
      << log;
  EXPECT_EQ(KernelFailureRecorded(out_).kernel_failure(), "kernel did not boot: reset before init");
  ExpectNothingLeft();
}

TEST_F(BootE2ETest, KernelThatNeverPrintsIsTheKernelsFailure) {
  std::string kernel = BrokenKernel(dir_, std::string::npos, true);  // hangs silently
  int rc = test::RunCli(BootArgs({"--kernel", kernel, "--boot-timeout", "8"}), dir_ + "/log",
                        std::chrono::seconds(120));
  std::string log = test::ReadFile(dir_ + "/log");
  EXPECT_EQ(rc, 1) << log;
  EXPECT_NE(log.find("printed nothing on the victim VM's console within 8 s"), std::string::npos)
      << log;
  EXPECT_EQ(KernelFailureRecorded(out_).kernel_failure(),
            "kernel did not boot: no console output");
  ExpectNothingLeft();
}

// certify says no to a kernel that does not boot, with a verdict per run,
// not "incomplete": syzkaller's BootError is a finding.
TEST_F(BootE2ETest, CertifyRefusesAKernelThatDoesNotBoot) {
  std::string kernel = BrokenKernel(dir_, 4 << 20, false);
  fs::create_directories(dir_ + "/suite");
  fs::copy_file(SWAPCHAOS_QUICK, dir_ + "/suite/quick.yaml");
  int rc = test::RunCli({"certify", "--kernel", kernel, "--suite", dir_ + "/suite", "--seeds", "2",
                         "--out", dir_ + "/cert", "--store", dir_ + "/store.db"},
                        dir_ + "/log", std::chrono::seconds(300));
  std::string log = test::ReadFile(dir_ + "/log");
  EXPECT_EQ(rc, 1) << log;
  kernels::Certificate cert;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  test::ReadFile(dir_ + "/cert/certificate.json"), &cert)
                  .ok())
      << log;
  EXPECT_EQ(cert.verdict(), "not certified");
  ASSERT_EQ(cert.signatures_size(), 1) << log;
  EXPECT_EQ(cert.signatures(0).signature(), "kernel did not boot: reset before init");
  // Certify stopped at the first failure; the same --out with no failure
  // limit runs what it left, and the second seed fails the same way.
  EXPECT_EQ(cert.signatures(0).count(), 1u);
  EXPECT_NE(cert.rule().find("1 failed, 1 not judged"), std::string::npos) << cert.rule();
  rc = test::RunCli({"certify", "--kernel", kernel, "--suite", dir_ + "/suite", "--seeds", "2",
                     "--max-failures", "0", "--out", dir_ + "/cert", "--store",
                     dir_ + "/store.db"},
                    dir_ + "/log2", std::chrono::seconds(300));
  log = test::ReadFile(dir_ + "/log2");
  EXPECT_EQ(rc, 1) << log;
  EXPECT_NE(log.find("resuming campaign"), std::string::npos) << log;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  test::ReadFile(dir_ + "/cert/certificate.json"), &cert)
                  .ok())
      << log;
  ASSERT_EQ(cert.signatures_size(), 1) << log;
  EXPECT_EQ(cert.signatures(0).count(), 2u);
  // Each run is a finished, judged run: analyze agrees from its files.
  for (const auto& e : fs::recursive_directory_iterator(dir_ + "/cert")) {
    if (e.path().filename() != "verdict.json") continue;
    std::string run = e.path().parent_path().string();
    rc = test::RunCli({"analyze", run}, dir_ + "/analyze.log");
    EXPECT_EQ(rc, 1) << test::ReadFile(dir_ + "/analyze.log");
    EXPECT_NE(test::ReadFile(dir_ + "/analyze.log")
                  .find("verdict: fail (kernel did not boot: reset before init)"),
              std::string::npos);
  }
  EXPECT_TRUE(test::ProcessesMentioning(dir_ + "/cert").empty());
}

}  // namespace
}  // namespace swapchaos::controller
