#include "controller/report/kcidb.h"

#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

StoredRun MakeRun(int64_t id, const std::string& status, const std::string& verdict) {
  StoredRun r;
  r.id = id;
  r.campaign = 1;
  r.scenario = "/usr/share/swapchaos/scenarios/certify/server-restart.yaml";
  r.seed = static_cast<uint64_t>(id);
  r.status = status;
  r.verdict = verdict;
  r.attempts = 1;
  r.wall_s = 82.4;
  r.finished_at = "2026-12-05T10:01:22Z";
  r.kernel_release = "6.1.0-57-cloud-amd64";
  r.kernel_sha256 = std::string(64, 'a');
  r.host = "node7";
  r.tool = "swapchaos 0.8.0 (commit abc)";
  return r;
}

// A campaign with a pass, a kernel failure, an error of ours and a run
// still pending, exported and checked by KCIDB's own schema (jsonschema).
TEST(KcidbTest, ReportIsValidAgainstKernelCisSchema) {
  StoredCampaign c;
  c.id = 1;
  c.name = "certify 6.1";
  std::vector<StoredRun> runs = {MakeRun(1, "done", "pass"), MakeRun(2, "done", "fail"),
                                 MakeRun(3, "error", ""), MakeRun(4, "pending", "")};
  runs[1].signature = "data lost: page 12 (\"corrupt\")";
  runs[2].error = "nbd-server did not start";
  runs[2].kernel_sha256.clear();  // it never read its image
  runs[2].kernel = "/boot/vmlinuz-x";
  auto json = KcidbReport({c}, {{1, runs}}, "swapchaos");
  ASSERT_TRUE(json.ok()) << json.status();
  std::string path = test::UniqueTempDir() + "/kcidb.json";
  std::ofstream(path) << *json;
  std::string checked =
      test::ShellOutput(SWAPCHAOS_KCIDB_VALIDATE " " + path + " 2>&1; echo rc=$?");
  EXPECT_NE(checked.find("valid KCIDB v5 report\nrc=0"), std::string::npos) << checked << *json;
  EXPECT_NE(json->find("\"status\": \"PASS\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"status\": \"FAIL\""), std::string::npos);
  EXPECT_NE(json->find("\"status\": \"ERROR\""), std::string::npos);
  EXPECT_EQ(json->find("-run-4-"), std::string::npos) << "a pending run is not a result";
  EXPECT_NE(json->find("\"path\": \"swapchaos.server-restart\""), std::string::npos);
  EXPECT_NE(json->find("\"start_time\": \"2026-12-05T10:00:00Z\""), std::string::npos);
  EXPECT_NE(json->find("\"build_id\": \"swapchaos:" + std::string(64, 'a')), std::string::npos);

  // And the validator does refuse: a test without its build.
  std::ofstream(path) << "{\"version\": {\"major\": 5, \"minor\": 3}, \"tests\": [{\"id\": "
                         "\"swapchaos:1\", \"origin\": \"swapchaos\"}]}";
  checked = test::ShellOutput(SWAPCHAOS_KCIDB_VALIDATE " " + path + " 2>&1; echo rc=$?");
  EXPECT_NE(checked.find("'build_id' is a required property"), std::string::npos) << checked;
  EXPECT_NE(checked.find("rc=1"), std::string::npos) << checked;
}

TEST(KcidbTest, OriginOutsideKcidbsAlphabetIsRefused) {
  auto json = KcidbReport({}, {}, "Swap-Chaos");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("[a-z0-9_]+"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::controller
