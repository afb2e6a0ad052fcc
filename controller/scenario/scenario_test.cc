#include "controller/scenario/scenario.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

constexpr char kValid[] = R"(name: t
vm: {memory_mib: 256, cpus: 1}
faults:
  - at_s: 5
    for_s: 10
    netem:
      direction: to_server
      params: {loss: 30%, delay_us: 1000}
deadline_s: 400
)";

// Parses `text` as file "t.yaml" and expects an error holding each of `want`.
void ExpectError(const std::string& text, std::initializer_list<const char*> want) {
  auto s = ParseScenario(text, "t.yaml");
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* w : want) {
    EXPECT_NE(s.status().message().find(w), std::string::npos)
        << "want '" << w << "' in: " << s.status().message();
  }
}

TEST(ScenarioTest, ValidFileLoadsWithDefaults) {
  auto s = ParseScenario(kValid, "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  const scenario::Scenario& sc = s->scenario;
  EXPECT_EQ(sc.vm().memory_mib(), 256u);
  EXPECT_EQ(sc.swap().size_mib(), 1024u);          // default
  EXPECT_EQ(sc.swap().min_free_kbytes(), 13107u);  // 5% of 256 MiB
  EXPECT_EQ(sc.workload().procs_per_cpu(), 8u);    // the seed's test
  EXPECT_DOUBLE_EQ(sc.workload().ram_multiple(), 4);
  EXPECT_EQ(sc.oracles().grace_s(), 150u);
  ASSERT_EQ(sc.faults_size(), 1);
  EXPECT_DOUBLE_EQ(sc.faults(0).netem().params().loss(), 0.3);  // "30%"
  EXPECT_EQ(s->where.Where("faults[0].netem.params"), "t.yaml:8:7");
}

TEST(ScenarioTest, UnknownFieldNamesLineAndTheKnownOnes) {
  ExpectError("name: t\nvm:\n  memroy_mib: 512\ndeadline_s: 10\n",
              {"t.yaml:3:3", "vm.memroy_mib", "unknown field", "memory_mib"});
}

TEST(ScenarioTest, WrongTypes) {
  ExpectError("vm: {cpus: two}\n",
              {"t.yaml:1:6", "vm.cpus", "expected a whole number >= 0", "'two'"});
  ExpectError("vm: {cpus: -1}\n", {"vm.cpus", "expected a whole number >= 0"});
  ExpectError("vm: {cpus: 99999999999}\n", {"vm.cpus"});
  ExpectError("faults: {at_s: 1}\n", {"faults", "expected a list"});
  ExpectError("vm: [1, 2]\n", {"vm", "expected a mapping"});
  ExpectError("faults:\n  - at_s: soon\n",
              {"t.yaml:2:5", "faults[0].at_s", "expected a finite number"});
  ExpectError("workload: {write: maybe}\n", {"workload.write", "true or false"});
}

TEST(ScenarioTest, DuplicateKeyAndBrokenYaml) {
  ExpectError("deadline_s: 10\ndeadline_s: 20\n", {"t.yaml:2:1", "given twice"});
  ExpectError("vm: {memory_mib: 1\n", {"t.yaml:", "not valid YAML"});
}

TEST(ScenarioTest, FaultParametersOutOfRange) {
  ExpectError(R"(faults:
  - at_s: 1
    for_s: 2
    netem: {direction: both, params: {loss: 120%}}
deadline_s: 500
)",
              {"t.yaml:4:30", "faults[0].netem.params", "netem loss: must be in [0, 1]"});
  ExpectError("faults:\n  - {at_s: 1, for_s: -3, netem: {direction: both}}\ndeadline_s: 500\n",
              {"faults[0].for_s", "must be > 0"});
  ExpectError("faults:\n  - {at_s: 1, for_s: 3}\ndeadline_s: 500\n",
              {"t.yaml:2:5", "faults[0]", "names no fault kind"});
  ExpectError("faults:\n  - {at_s: 1, for_s: 3, netem: {direction: sideways}}\ndeadline_s: 500\n",
              {"faults[0].netem.direction", "to_server, to_victim or both"});
  ExpectError("faults:\n  - {at_s: 1, for_s: 3, nbd_server: {action: nap}}\ndeadline_s: 500\n",
              {"t.yaml:2:38", "faults[0].nbd_server.action", "freeze, kill or restart"});
  ExpectError(
      "faults:\n  - {at_s: 1, for_s: 3, nbd_server: {action: kill}, netem: {}}\ndeadline_s: 500\n",
      {"faults[0].netem", "only one of kind"});
  ExpectError(R"(faults:
  - {at_s: 1, for_s: 3, netem: {direction: both, params: {reorder: 10%}}}
deadline_s: 500
)",
              {"netem reorder: needs a delay"});
}

TEST(ScenarioTest, OverlappingFaultsOnOneNic) {
  ExpectError(R"(faults:
  - {at_s: 10, for_s: 20, netem: {direction: to_server, params: {loss: 10%}}}
  - {at_s: 25, for_s: 5, netem: {direction: both, params: {loss: 100%}}}
deadline_s: 500
)",
              {"t.yaml:3:5", "faults[1]", "overlaps faults[0] (10..30 s) on wire data1 qdisc"});
  ExpectError(R"(faults:
  - {at_s: 10, for_s: 20, nbd_server: {action: freeze}}
  - {at_s: 15, for_s: 5, nbd_server: {action: kill}}
deadline_s: 500
)",
              {"faults[1]", "overlaps faults[0] (10..30 s) on host nbd-server"});
  // Back to back, or on the other direction, is fine.
  EXPECT_TRUE(ParseScenario(R"(faults:
  - {at_s: 10, for_s: 20, netem: {direction: to_server, params: {loss: 10%}}}
  - {at_s: 30, for_s: 5, netem: {direction: both, params: {loss: 100%}}}
  - {at_s: 12, for_s: 5, netem: {direction: to_victim, params: {loss: 100%}}}
deadline_s: 500
)",
                            "t.yaml")
                  .ok());
}

TEST(ScenarioTest, DeadlineShorterThanTimeline) {
  ExpectError(R"(faults:
  - {at_s: 100, for_s: 60, netem: {direction: both, params: {loss: 100%}}}
oracles: {grace_s: 120}
deadline_s: 200
)",
              {"t.yaml:4:1", "deadline_s", "last fault heals at 160 s", "at least 280 s"});
  // A field that is not there is placed where its parent is.
  ExpectError("name: t\n", {"t.yaml:1:1", "deadline_s", "is required"});
  ExpectError("faults:\n  - at_s: 5\n    for_s: 10\n    spike: {}\ndeadline_s: 400\n",
              {"t.yaml:4:5: faults[0].spike.mib: must be 1..1048576"});
}

TEST(ScenarioTest, RangesOfTheVm) {
  ExpectError("vm: {memory_mib: 64}\ndeadline_s: 10\n",
              {"t.yaml:1:6", "vm.memory_mib", "128..16384"});
  ExpectError("swap: {size_mib: 1}\ndeadline_s: 10\n", {"swap.size_mib"});
  ExpectError("vm: {memory_mib: 256}\nswap: {min_free_kbytes: 65537}\ndeadline_s: 10\n",
              {"t.yaml:2:8", "swap.min_free_kbytes", "a quarter of vm.memory_mib"});
  ExpectError("swap: {min_free_kbytes: 64}\ndeadline_s: 10\n", {"swap.min_free_kbytes"});
  ExpectError("swap: {watermark_boost_factor: 2000000}\ndeadline_s: 10\n",
              {"swap.watermark_boost_factor", "0..1000000"});
}

// Like the reserve, 0 is a value (the boost off); absent keeps the kernel's.
TEST(ScenarioTest, WatermarkBoostFactorZeroIsSet) {
  auto s = ParseScenario("swap: {watermark_boost_factor: 0}\ndeadline_s: 200\n", "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->scenario.swap().has_watermark_boost_factor());
  auto unset = ParseScenario("deadline_s: 200\n", "t.yaml");
  ASSERT_TRUE(unset.ok()) << unset.status();
  EXPECT_FALSE(unset->scenario.swap().has_watermark_boost_factor());
}

// 0 is a value, not "unset": it keeps the kernel's own reserve (the finding
// scenario needs it), where leaving the field out gets the 5% default.
TEST(ScenarioTest, MinFreeKbytesZeroKeepsTheKernelsOwn) {
  auto s = ParseScenario("vm: {memory_mib: 256}\nswap: {min_free_kbytes: 0}\ndeadline_s: 200\n",
                         "t.yaml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->scenario.swap().has_min_free_kbytes());
  EXPECT_EQ(s->scenario.swap().min_free_kbytes(), 0u);
}

TEST(ScenarioTest, MissingFileIsNamed) {
  auto s = LoadScenario("/nonexistent/x.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/x.yaml"), std::string::npos);
}

// Inputs that once hung, exhausted memory or took seconds: each is refused
// by name.
TEST(ScenarioTest, HostileInputsAreRefusedQuickly) {
  std::string dir = ::testing::TempDir() + "/hostile." + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string fifo = dir + "/fifo.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto s = LoadScenario(fifo);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(fifo + ": is not a regular file"), std::string::npos)
      << s.status();
  s = LoadScenario("/dev/zero");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is not a regular file"), std::string::npos);
  std::string big = dir + "/big.yaml";
  {
    FILE* f = std::fopen(big.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::string line(1023, '#');
    for (int i = 0; i < 1025; ++i) std::fprintf(f, "%s\n", line.c_str());
    std::fclose(f);
  }
  s = LoadScenario(big);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("1049600 bytes, more than the 1048576"), std::string::npos)
      << s.status();
  std::filesystem::remove_all(dir);

  // An alias bomb: 2,000 kinds naming one list of 2,000 parameter ranges,
  // 4 million values in 40 KB of YAML.
  std::string bomb = "generator:\n  kinds:\n    - params: &p [";
  for (int i = 0; i < 2000; ++i) bomb += i ? ",{min: 1}" : "{min: 1}";
  bomb += "]\n";
  for (int i = 0; i < 2000; ++i) bomb += "    - params: *p\n";
  ExpectError(bomb + "deadline_s: 10\n", {"more than 200000 values in the file"});

  ExpectError("generator: {window_s: nan}\ndeadline_s: 10\n",
              {"generator.window_s", "expected a finite number, got 'nan'"});
  ExpectError("workload: {ram_multiple: inf}\ndeadline_s: 10\n", {"a finite number"});
  ExpectError(R"(generator:
  count: 4294967295
  window_s: 100
  kinds: [{fault: {spike: {mib: 1}}, for_s: {min: 1, max: 1}}]
deadline_s: 1000
)",
              {"generator.count", "1..10000"});
}

TEST(ScenarioTest, NamesAreNeitherPathsNorOptions) {
  for (const char* bad : {"../../etc/x", "a/b", "x,path=/etc/y", ".hidden", "a b"}) {
    ExpectError(std::string("name: \"") + bad + "\"\ndeadline_s: 10\n",
                {"t.yaml:1:1", "name", "letters, digits"});
  }
  EXPECT_TRUE(ParseScenario("name: loss-and-pull_2.v1\ndeadline_s: 200\n", "t.yaml").ok());
}

// 20,000 non-overlapping faults took 16 s to check pairwise.
TEST(ScenarioTest, ManyFaultsAreCheckedInLinearithmicTime) {
  auto loaded = ParseScenario("deadline_s: 1000000000\n", "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  scenario::Scenario& sc = loaded->scenario;
  const SourceMap& where = loaded->where;
  for (int i = 0; i < 10000; ++i) {
    scenario::Fault* f = sc.add_faults();
    f->set_at_s(i * 10);
    f->set_for_s(5);
    f->mutable_nbd_server()->set_action("freeze");
  }
  EXPECT_TRUE(CheckScenario(sc, where).ok());
  sc.mutable_faults(9999)->set_at_s(12);  // inside faults[1]
  absl::Status st = CheckScenario(sc, where);
  EXPECT_NE(st.message().find("faults[9999]: overlaps faults[1] (10..15 s) on host nbd-server"),
            std::string::npos)
      << st;
  sc.add_faults()->CopyFrom(sc.faults(0));
  EXPECT_NE(CheckScenario(sc, where).message().find("more than 10000 faults"), std::string::npos);
}

TEST(ScenarioTest, EveryShippedScenarioLoads) {
  int count = 0;
  // The certify suite too.
  for (const auto& e : std::filesystem::recursive_directory_iterator(SWAPCHAOS_SCENARIOS)) {
    if (e.path().extension() != ".yaml") continue;
    auto s = LoadScenario(e.path().string());
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) {
      EXPECT_EQ(s->scenario.name() + ".yaml", e.path().filename().string());
    }
    ++count;
  }
  EXPECT_GE(count, 8);
}

}  // namespace
}  // namespace swapchaos::controller
