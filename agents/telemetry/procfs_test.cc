#include "agents/telemetry/procfs.h"

#include <fstream>
#include <sstream>

#include "agents/telemetry/sampler.h"
#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::agents::telemetry {
namespace {

// Recorded from real kernels; see testdata/*/.
std::string Recorded(const std::string& kernel, const std::string& file) {
  std::ifstream in(std::string(SWAPCHAOS_TESTDATA) + "/" + kernel + "/" + file);
  std::ostringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << kernel << "/" << file;
  return ss.str();
}

// guest-6.1: Debian's cloud kernel in a TCG guest; host-6.18: this build host.
class RecordedKernelTest : public testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Kernels, RecordedKernelTest, testing::Values("guest-6.1", "host-6.18"));

TEST_P(RecordedKernelTest, VmstatKeepsTheOracleCounters) {
  agent::Sample s;
  ParseVmstat(Recorded(GetParam(), "vmstat"), &s);
  for (const char* key : {"pswpin", "pswpout", "pgscan_direct_throttle", "oom_kill",
                          "allocstall_normal", "allocstall_movable"}) {
    EXPECT_TRUE(s.vmstat().contains(key)) << key;
  }
  EXPECT_FALSE(s.vmstat().contains("nr_zone_active_file"));
  EXPECT_GT(s.vmstat().at("nr_free_pages"), 0u);
}

TEST_P(RecordedKernelTest, MeminfoInKib) {
  agent::Sample s;
  ParseMeminfo(Recorded(GetParam(), "meminfo"), &s);
  ASSERT_TRUE(s.meminfo_kib().contains("MemTotal"));
  EXPECT_GT(s.meminfo_kib().at("MemTotal"), s.meminfo_kib().at("MemFree"));
  EXPECT_TRUE(s.meminfo_kib().contains("SwapFree"));
  EXPECT_EQ(s.meminfo_kib().size(), 10u);
}

TEST_P(RecordedKernelTest, PsiAndSwaps) {
  agent::Sample s;
  EXPECT_TRUE(ParsePsi(Recorded(GetParam(), "pressure_memory"), &s).ok());
  EXPECT_TRUE(s.has_memory_full());
  ParseSwaps(Recorded(GetParam(), "swaps"), &s);
  EXPECT_EQ(s.swaps_size(), 0);  // recorded before any swapon
}

TEST(ProcfsTest, PsiSomeAndFull) {
  agent::Sample s;
  ASSERT_TRUE(ParsePsi("some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\n"
                       "full avg10=0.75 avg60=0.00 avg300=0.00 total=789\n",
                       &s)
                  .ok());
  EXPECT_DOUBLE_EQ(s.memory_some().avg10(), 1.5);
  EXPECT_EQ(s.memory_some().total_us(), 123456u);
  EXPECT_DOUBLE_EQ(s.memory_full().avg10(), 0.75);
  EXPECT_EQ(s.memory_full().total_us(), 789u);
  agent::Sample other;
  EXPECT_FALSE(ParsePsi("garbage\n", &other).ok());
  EXPECT_FALSE(ParsePsi("", &other).ok());
}

TEST(ProcfsTest, SwapsSkipsHeader) {
  agent::Sample s;
  ParseSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/nbd0                               partition\t1048572\t\t5120\t\t-2\n",
      &s);
  ASSERT_EQ(s.swaps_size(), 1);
  EXPECT_EQ(s.swaps(0).filename(), "/dev/nbd0");
  EXPECT_EQ(s.swaps(0).type(), "partition");
  EXPECT_EQ(s.swaps(0).size_kib(), 1048572u);
  EXPECT_EQ(s.swaps(0).used_kib(), 5120u);
  EXPECT_EQ(s.swaps(0).priority(), -2);
}

TEST(ProcfsTest, NetDevPerInterfaceWithoutLoopback) {
  agent::Sample host;
  ParseNetDev(Recorded("host-6.18", "net_dev"), &host);
  EXPECT_FALSE(host.net_dev().empty());
  EXPECT_FALSE(host.net_dev().contains("lo"));
  agent::Sample s;
  ParseNetDev(
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:       0       0    0    0    0     0          0         0        0       0    0  "
      "  0    0     0       0          0\n"
      " data0: 1187652    8731    0    0    0     0          0         0 38254712    9301    0 "
      "   2    0     0       0          0\n",
      &s);
  ASSERT_TRUE(s.net_dev().contains("data0"));
  EXPECT_FALSE(s.net_dev().contains("lo"));
  const agent::NetDevCounters& d = s.net_dev().at("data0");
  EXPECT_EQ(d.rx_bytes(), 1187652u);
  EXPECT_EQ(d.rx_packets(), 8731u);
  EXPECT_EQ(d.tx_bytes(), 38254712u);
  EXPECT_EQ(d.tx_packets(), 9301u);
  EXPECT_EQ(d.tx_drops(), 2u);
}

TEST(ProcfsTest, StatStateEvenWithParenthesesInTheName) {
  EXPECT_EQ(*ParseStatState("1234 (usemem) D 1 1234 1234 0 -1 4194560"), "D");
  EXPECT_EQ(*ParseStatState("42 (a) b (c)) S 1 42"), "S");
  EXPECT_FALSE(ParseStatState("garbage").ok());
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  EXPECT_EQ(*ParseStatState(line), "R");  // this very test, reading
}

TEST(ProcfsTest, Inflight) {
  agent::Sample s;
  ASSERT_TRUE(ParseInflight("       3        7\n", &s).ok());
  EXPECT_EQ(s.nbd_inflight_reads(), 3u);
  EXPECT_EQ(s.nbd_inflight_writes(), 7u);
  EXPECT_FALSE(ParseInflight("", &s).ok());
}

TEST(ProcfsTest, KmsgRecordWithContinuation) {
  agent::KernelLogLine line;
  ASSERT_TRUE(ParseKmsgRecord("3,1234,56789012,-,caller=T42;Read-error on swap-device "
                              "(43:0:1234)\n SUBSYSTEM=block\n DEVICE=b43:0\n",
                              &line)
                  .ok());
  EXPECT_EQ(line.priority(), 3u);
  EXPECT_EQ(line.seq(), 1234u);
  EXPECT_EQ(line.timestamp_us(), 56789012u);
  EXPECT_EQ(line.text(), "Read-error on swap-device (43:0:1234)");
  // Facility bits above the level are dropped.
  ASSERT_TRUE(ParseKmsgRecord("14,1,2,-;user line\n", &line).ok());
  EXPECT_EQ(line.priority(), 6u);
  EXPECT_FALSE(ParseKmsgRecord("no separator", &line).ok());
}

TEST(SamplerTest, LiveKernelSample) {
  Sampler sampler;
  agent::Sample first = sampler.Next();
  agent::Sample second = sampler.Next();
  EXPECT_EQ(first.seq(), 0u);
  EXPECT_EQ(second.seq(), 1u);
  EXPECT_TRUE(first.vmstat().contains("pswpout"));
  EXPECT_GT(first.meminfo_kib().at("MemTotal"), 0u);
  EXPECT_GE(second.uptime_ms(), first.uptime_ms());
}

TEST(SamplerTest, RecordedTreeAsRoot) {
  std::string root = test::UniqueTempDir() + "/sampler_root";
  std::string src = std::string(SWAPCHAOS_TESTDATA) + "/host-6.18/";
  std::system(("mkdir -p " + root + "/proc/pressure " + root + "/sys/block/nbd0 && cp " + src +
               "vmstat " + src + "meminfo " + src + "swaps " + root + "/proc/ && cp " + src +
               "pressure_memory " + root + "/proc/pressure/memory && echo '1 2' > " + root +
               "/sys/block/nbd0/inflight")
                  .c_str());
  Sampler sampler(root, "/nonexistent/kmsg");
  agent::Sample s = sampler.Next();
  EXPECT_TRUE(s.vmstat().contains("pgscan_direct_throttle"));
  EXPECT_EQ(s.nbd_inflight_writes(), 2u);
  EXPECT_EQ(s.kmsg_size(), 0);
}

TEST(ProcfsTest, KeyNumbersOfAProcessStatus) {
  auto m = ParseKeyNumbers(
      "Name:\tswapchaos-spike\nState:\tS (sleeping)\nVmLck:\t   65536 kB\n"
      "VmRSS:\t   70000 kB\nThreads:\t1\n");
  EXPECT_EQ(m["VmLck"], 65536u);
  EXPECT_EQ(m["VmRSS"], 70000u);
  EXPECT_EQ(m["Threads"], 1u);
  EXPECT_EQ(m.count("Name"), 0u);  // not a number
  EXPECT_EQ(ParseKeyNumber("VmRSS:\t   70000 kB\nVmLck:\t   65536 kB\n", "VmLck"), 65536u);
  EXPECT_EQ(ParseKeyNumber("VmRSS:\t   70000 kB\n", "VmLck"), 0u);
}

TEST(ProcfsTest, BlockStatCompletedRequestsAndTheirTime) {
  agent::Sample s;
  // 6.1's 17 fields: read I/Os, merges, sectors, ticks, then the same for writes, ...
  ASSERT_TRUE(ParseBlockStat("    1204        0    91360     5032    30876        0  7900160  "
                             "1830440        0   228772  1835472        0        0        0"
                             "        0        0        0\n",
                             &s)
                  .ok());
  EXPECT_EQ(s.nbd_reads_done(), 1204u);
  EXPECT_EQ(s.nbd_writes_done(), 30876u);
  EXPECT_EQ(s.nbd_read_ticks_ms(), 5032u);
  EXPECT_EQ(s.nbd_write_ticks_ms(), 1830440u);
  EXPECT_FALSE(ParseBlockStat("", &s).ok());
  EXPECT_FALSE(ParseBlockStat("1204 0 91360 5032 30876", &s).ok());
}

// The 6.1 format; the free-page section before the block counts also has
// "Node" lines, which must not count.
TEST(ProcfsTest, HighatomicPageblocks) {
  constexpr char kText[] =
      "Page block order: 10\n"
      "Pages per block:  1024\n"
      "\n"
      "Free pages count per migrate type at order       0      1\n"
      "Node    0, zone      DMA, type    Unmovable      1      2\n"
      "Node    0, zone    DMA32, type   HighAtomic    900    100\n"
      "\n"
      "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
      "Node 0, zone      DMA            1            2            0            0            0 \n"
      "Node 0, zone    DMA32            3           56            1            2            0 \n";
  agent::Sample s;
  ASSERT_TRUE(ParsePagetypeinfo(kText, &s).ok());
  EXPECT_EQ(s.highatomic_kib(), 2u * 1024 * 4);
  EXPECT_FALSE(ParsePagetypeinfo("", &s).ok());
  // This host's own (root may read it; the tests run as root).
  std::string live = ReadProcFile("/proc/pagetypeinfo");
  EXPECT_TRUE(ParsePagetypeinfo(live, &s).ok()) << live;
}

TEST(ProcfsTest, StatCpuTicksAfterANameWithSpaces) {
  auto t = ParseStatCpuTicks(
      "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 170 30 0 0 20 0 9 0 111 0 0\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, 200u);
  std::ifstream self("/proc/self/stat");
  std::string line;
  std::getline(self, line);
  auto live = ParseStatCpuTicks(line);
  EXPECT_TRUE(live.ok()) << live.status();
}

}  // namespace
}  // namespace swapchaos::agents::telemetry
