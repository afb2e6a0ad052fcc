// swapchaos run, as a user runs it: scenarios/smoke.yaml on the default
// kernel must pass, its results must be complete, and analyze must reach the
// same verdict from the files alone.
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "swapchaos/controller.pb.h"
#include "testing/cli.h"
#include "testing/known_findings.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

TEST(ChaosE2ETest, SmokeScenarioPassesOnTheDefaultKernel) {
  std::string dir = test::UniqueTempDir();
  std::string out = dir + "/run";
  auto before = test::NetNamespaces();
  int rc = test::RunCli(
      {"run", std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml", "--seed", "7", "--out", out,
       "--ktap", "--junit", dir + "/junit.xml"},
      dir + "/log", std::chrono::seconds(600));
  std::string log = test::ReadFile(dir + "/log");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("verdict: pass"), std::string::npos) << log;
  // For harnesses: KTAP (stdout, here merged with the progress on stderr)
  // and JUnit, the oracles as tests.
  EXPECT_NE(log.find("KTAP version 1\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\n  1..12\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\nok 1 smoke\n"), std::string::npos) << log;
  std::string junit = test::ReadFile(dir + "/junit.xml");
  EXPECT_NE(junit.find("tests=\"12\" failures=\"0\" errors=\"0\""), std::string::npos) << junit;
  for (const char* f : {"verdict.json", "meta.json", "scenario.json", "trace.jsonl",
                        "telemetry.jsonl", "wire-telemetry.jsonl", "console.log"}) {
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  }
  Verdict v;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(test::ReadFile(out + "/verdict.json"), &v).ok());
  EXPECT_EQ(v.verdict(), "pass");
  EXPECT_EQ(v.seed(), 7u);
  EXPECT_TRUE(v.tool().starts_with("swapchaos 0.")) << v.tool();
  EXPECT_EQ(v.oracles_size(), 12);  // every oracle of the table reported
  // Loss on both wire NICs and a cable pull, each applied and reverted.
  std::string trace = test::ReadFile(out + "/trace.jsonl");
  EXPECT_EQ(std::count(trace.begin(), trace.end(), '\n'), 6);
  EXPECT_NE(trace.find("victim data0 cable"), std::string::npos);
  EXPECT_TRUE(test::ProcessesMentioning(out).empty());
  EXPECT_EQ(test::NetNamespaces(), before);

  // Judged again from the files alone: the same verdict.
  std::string verdict_before = test::ReadFile(out + "/verdict.json");
  EXPECT_EQ(test::RunCli({"analyze", out}, dir + "/analyze.log"), 0)
      << test::ReadFile(dir + "/analyze.log");
  EXPECT_EQ(test::ReadFile(out + "/verdict.json"), verdict_before);

  // A run made without a store goes into one, once, and comes out whole.
  std::string store = dir + "/store.db";
  ASSERT_EQ(test::RunCli({"store", "import", out, "--store", store}, dir + "/import.log"), 0)
      << test::ReadFile(dir + "/import.log");
  EXPECT_NE(test::ReadFile(dir + "/import.log").find(": 1 campaigns (1 runs) imported"),
            std::string::npos)
      << test::ReadFile(dir + "/import.log");
  ASSERT_EQ(test::RunCli({"store", "import", out, "--store", store}, dir + "/again.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/again.log").find("0 campaigns (0 runs) imported, 1 already"),
            std::string::npos)
      << test::ReadFile(dir + "/again.log");
  ASSERT_EQ(test::RunCli({"store", "fetch", "1", "--store", store, "--out", dir + "/fetched"},
                         dir + "/fetch.log"),
            0)
      << test::ReadFile(dir + "/fetch.log");
  EXPECT_EQ(test::ReadFile(dir + "/fetched/verdict.json"), verdict_before);
  ASSERT_EQ(test::RunCli({"campaign", "status", "--store", store}, dir + "/status.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/status.log").find("1/1 done, 0 running, 0 failed, 0 errors"),
            std::string::npos)
      << test::ReadFile(dir + "/status.log");
  // For KernelCI: the real run as a KCIDB report its own schema accepts.
  ASSERT_EQ(test::RunCli({"export", "kcidb", "--store", store}, dir + "/kcidb.json"), 0);
  std::string checked =
      test::ShellOutput(SWAPCHAOS_KCIDB_VALIDATE " " + dir + "/kcidb.json 2>&1; echo rc=$?");
  EXPECT_NE(checked.find("valid KCIDB v5 report\nrc=0"), std::string::npos) << checked;
  EXPECT_NE(test::ReadFile(dir + "/kcidb.json").find("\"status\": \"PASS\""), std::string::npos);
}

// The negative control: the oracles must be able to say no.
TEST(ChaosE2ETest, KilledNbdServerFailsWithItsSignature) {
  std::string dir = test::UniqueTempDir();
  std::string out = dir + "/run";
  auto before = test::NetNamespaces();
  int rc = test::RunCli(
      {"run", std::string(SWAPCHAOS_SCENARIOS) + "/nbd-server-killed.yaml", "--out", out},
      dir + "/log", std::chrono::seconds(600));
  std::string log = test::ReadFile(dir + "/log");
  ASSERT_EQ(rc, 1) << log;
  Verdict v;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(test::ReadFile(out + "/verdict.json"), &v).ok());
  EXPECT_EQ(v.verdict(), "fail");
  // A listed kernel finding (testing/known-findings.yaml) says nothing of
  // the fault: accepted, and nothing else is.
  if (test::OnlyKnownFindings(out)) return;
  EXPECT_EQ(v.signature(), "workload task killed: Bus error") << log;
  // The kernel said why on its console.
  std::string console = test::ReadFile(out + "/console.log");
  EXPECT_TRUE(console.find("Read-error on swap-device") != std::string::npos ||
              console.find("Write-error on swap-device") != std::string::npos);
  EXPECT_TRUE(test::ProcessesMentioning(out).empty());
  EXPECT_EQ(test::NetNamespaces(), before);

  // Replayed from its recorded plan and seed: the same signature again.
  rc = test::RunCli({"replay", out, "--out", dir + "/replay"}, dir + "/replay.log",
                    std::chrono::seconds(600));
  std::string replay_log = test::ReadFile(dir + "/replay.log");
  Verdict again;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  test::ReadFile(dir + "/replay/1/verdict.json"), &again)
                  .ok())
      << replay_log;
  if (test::OnlyKnownFindings(dir + "/replay/1")) return;
  EXPECT_EQ(rc, 0) << replay_log;
  EXPECT_NE(replay_log.find("reproduced 1 of 1"), std::string::npos) << replay_log;
  EXPECT_EQ(again.signature(), v.signature());
  EXPECT_EQ(again.seed(), v.seed());
  EXPECT_EQ(test::NetNamespaces(), before);
}

// minimize drops the faults the failure does not need: the negative
// control with two harmless faults added comes back with the kill alone.
TEST(ChaosE2ETest, MinimizeDropsHarmlessFaults) {
  std::string dir = test::UniqueTempDir();
  std::string scenario = test::ReadFile(std::string(SWAPCHAOS_SCENARIOS) + "/nbd-server-killed.yaml");
  size_t faults = scenario.find("faults:\n");
  ASSERT_NE(faults, std::string::npos);
  scenario.insert(faults + 8,
                  "  - {at_s: 3, for_s: 5, vm_sysctl: {name: vm.swappiness, value: \"60\"}}\n"
                  "  - {at_s: 10, for_s: 5, netem: {direction: to_victim, params: {delay_us: 500}}}\n");
  std::ofstream(dir + "/padded.yaml") << scenario;
  std::string out = dir + "/run";
  int rc = test::RunCli({"run", dir + "/padded.yaml", "--out", out}, dir + "/log",
                        std::chrono::seconds(600));
  ASSERT_EQ(rc, 1) << test::ReadFile(dir + "/log");
  rc = test::RunCli({"minimize", out, "--max-runs", "2", "--confirm", "1", "--out", dir + "/min"},
                    dir + "/min.log", std::chrono::seconds(1200));
  std::string log = test::ReadFile(dir + "/min.log");
  ASSERT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("3 faults -> 1"), std::string::npos) << log;
  EXPECT_NE(log.find("in 1 of 1 runs"), std::string::npos) << log;
  // The result is a scenario file like any other, with the kill alone.
  EXPECT_EQ(test::RunCli({"check", dir + "/min/minimal.yaml"}, dir + "/check.log"), 0)
      << test::ReadFile(dir + "/check.log");
  std::string minimal = test::ReadFile(dir + "/min/minimal.yaml");
  EXPECT_NE(minimal.find("\"action\":\"kill\""), std::string::npos) << minimal;
  EXPECT_EQ(minimal.find("swappiness"), std::string::npos) << minimal;
  EXPECT_EQ(minimal.find("delay_us"), std::string::npos) << minimal;
}

TEST(ChaosE2ETest, BadScenarioStartsNothing) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/bad.yaml") << "vm: {memory_mib: 512}\nfaults:\n"
                                      "  - {at_s: 5, for_s: 5, netem: {direction: up}}\n"
                                      "deadline_s: 300\n";
  auto before = test::NetNamespaces();
  EXPECT_EQ(test::RunCli({"run", dir + "/bad.yaml", "--out", dir + "/run"}, dir + "/log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/log").find("bad.yaml:3:"), std::string::npos)
      << test::ReadFile(dir + "/log");
  EXPECT_FALSE(fs::exists(dir + "/run"));
  EXPECT_EQ(test::NetNamespaces(), before);
}

TEST(ChaosE2ETest, AnalyzeAndReplayRefuseAnUnfinishedRun) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/telemetry.jsonl") << "";
  EXPECT_EQ(test::RunCli({"analyze", dir}, dir + "/../analyze.log"), 2);
  EXPECT_FALSE(fs::exists(dir + "/verdict.json"));
  auto before = test::NetNamespaces();
  EXPECT_EQ(test::RunCli({"replay", dir, "--out", dir + "/replay"}, dir + "/../replay.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/../replay.log").find("no finished run"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/replay"));
  EXPECT_EQ(test::NetNamespaces(), before);
}

}  // namespace
}  // namespace swapchaos::controller
