// swapchaos serve, and the CLI using it: a campaign submitted through the
// controller's socket runs in the controller, runs are listed over gRPC,
// a replay runs in the controller, bad requests are refused with the
// reason, and SIGTERM stops it cleanly.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "swapchaos/controller.grpc.pb.h"
#include "testing/cli.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

TEST(ServiceE2ETest, CampaignThroughTheController) {
  std::string dir = test::UniqueTempDir();
  std::string address = "unix:" + dir + "/c.sock";
  auto before = test::NetNamespaces();
  auto server = test::StartCli({"serve", "--listen", address, "--store", dir + "/store.db"},
                               dir + "/serve.log");
  ASSERT_TRUE(server);
  for (int i = 0; i < 100 && !fs::exists(dir + "/c.sock"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(fs::exists(dir + "/c.sock")) << test::ReadFile(dir + "/serve.log");
  auto stub = Controller::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));

  // Refused with the reason, nothing stored.
  std::ofstream(dir + "/bad.yaml") << "scenarios: [nosuch.yaml]\nseeds: {count: 1}\n";
  SubmitCampaignRequest bad;
  bad.set_file(dir + "/bad.yaml");
  CampaignAccepted accepted;
  grpc::ClientContext ctx1;
  grpc::Status st = stub->SubmitCampaign(&ctx1, bad, &accepted);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("bad.yaml:1:"), std::string::npos) << st.error_message();
  GetRunRequest get;
  get.set_id(99);
  RunRecord record;
  grpc::ClientContext ctx2;
  EXPECT_EQ(stub->GetRun(&ctx2, get, &record).error_code(), grpc::StatusCode::NOT_FOUND);

  // The CLI finds the controller and has it run the campaign.
  std::ofstream(dir + "/c.yaml") << "name: served\nscenarios: [" << SWAPCHAOS_QUICK
                                 << "]\nseeds: {list: [4]}\n";
  int rc = test::RunCli({"campaign", dir + "/c.yaml", "--controller", address, "--runs",
                         dir + "/runs"},
                        dir + "/campaign.log", std::chrono::seconds(900));
  std::string log = test::ReadFile(dir + "/campaign.log");
  EXPECT_EQ(rc, 0) << log << test::ReadFile(dir + "/serve.log");
  EXPECT_NE(log.find("submitted campaign 1 (1 runs) to the controller"), std::string::npos) << log;
  EXPECT_NE(log.find("done 1/1"), std::string::npos) << log;

  ListRunsRequest list;
  list.set_campaign(1);
  RunList runs;
  grpc::ClientContext ctx3;
  ASSERT_TRUE(stub->ListRuns(&ctx3, list, &runs).ok());
  ASSERT_EQ(runs.runs_size(), 1);
  EXPECT_EQ(runs.runs(0).status(), "done");
  EXPECT_EQ(runs.runs(0).verdict(), "pass");
  EXPECT_EQ(runs.runs(0).seed(), 4u);
  EXPECT_TRUE(fs::exists(runs.runs(0).dir() + "/report.html"));
  EXPECT_TRUE(fs::exists(dir + "/runs/campaign-1-junit.xml"));

  // The CLI's replay goes through the controller's Replay RPC too; a run
  // that is not finished is refused with the reason, nothing started.
  // (The controller writes the replay's progress to OUT.log: the CLI's own
  // output goes elsewhere.)
  rc = test::RunCli({"replay", runs.runs(0).dir(), "--controller", address, "--out",
                     dir + "/replay"},
                    dir + "/replay-cli.log", std::chrono::seconds(600));
  log = test::ReadFile(dir + "/replay-cli.log");
  EXPECT_EQ(rc, 0) << log << test::ReadFile(dir + "/replay.log");
  EXPECT_NE(log.find("replaying in the controller"), std::string::npos) << log;
  EXPECT_NE(log.find("original: pass; reproduced 1 of 1"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir + "/replay/1/verdict.json"));
  fs::create_directories(dir + "/unfinished");
  EXPECT_EQ(test::RunCli({"replay", dir + "/unfinished", "--controller", address},
                         dir + "/unfinished.log"),
            2);
  EXPECT_NE(test::ReadFile(dir + "/unfinished.log").find("no finished run"), std::string::npos)
      << test::ReadFile(dir + "/unfinished.log");
  EXPECT_TRUE(fs::is_empty(dir + "/unfinished"));

  server->Signal(SIGTERM);
  ASSERT_TRUE(server->WaitFor(std::chrono::seconds(30)));
  EXPECT_EQ(server->DescribeExit(), "exited with status 0");
  EXPECT_FALSE(fs::exists(dir + "/c.sock"));
  EXPECT_EQ(test::NetNamespaces(), before);
}

}  // namespace
}  // namespace swapchaos::controller
