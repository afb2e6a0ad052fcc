// swapchaos campaign as a user runs it: killed with SIGKILL in the middle of
// a run, started again, the campaign completes with every run counted once
// and the killed run's half-written directory never taken for a result.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "controller/store/store.h"
#include "gtest/gtest.h"
#include "testing/cli.h"
#include "testing/postgres.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

// During a run, no other user of the host reaches its agents: each QEMU
// (and so its forwarded agent port) is in a network namespace of its own,
// and the controller's way in, a Unix socket, refuses them. Returns how
// many QEMUs and agent sockets it checked.
std::pair<int, int> CheckAgentsAreTheControllersAlone(const std::string& runs) {
  char self_ns[64] = {};
  EXPECT_GT(readlink("/proc/self/ns/net", self_ns, sizeof self_ns - 1), 0);
  int qemus = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string cmdline = test::ReadFile(e.path().string() + "/cmdline");
    if (cmdline.find("qemu-system") != 0 ||
        !test::HoldsFileMentioning(e.path().filename(), runs)) {
      continue;
    }
    char ns[64] = {};
    if (readlink((e.path().string() + "/ns/net").c_str(), ns, sizeof ns - 1) <= 0) continue;
    EXPECT_STRNE(ns, self_ns) << "QEMU in the host's network namespace: " << cmdline;
    ++qemus;
  }
  // Accepted connections list their listener's path too: each path once.
  std::set<std::string> paths;
  std::istringstream unix_sockets(test::ReadFile("/proc/net/unix"));
  for (std::string line; std::getline(unix_sockets, line);) {
    std::string path = line.substr(line.rfind(' ') + 1);
    if (path.ends_with("-agent.sock")) paths.insert(path);
  }
  for (const std::string& path : paths) {
    pid_t child = fork();
    if (child == 0) {  // as nobody
      if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
      _exit(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EACCES ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "nobody reached " << path;
  }
  return {qemus, static_cast<int>(paths.size())};
}

// The scratch directory of the run writing into `runs`: where the swap
// image of the nbd-server whose output goes there lies.
std::string RunWorkDir(const std::string& runs) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::map<int, std::string> files = test::OpenFiles(e.path().filename());
    if (!test::ReadFile(e.path().string() + "/cmdline").starts_with("nbd-server") ||
        !files[1].starts_with(runs)) {
      continue;
    }
    for (const auto& [fd, target] : files) {
      if (fs::path(target).filename() == "swap.img") return fs::path(target).parent_path();
    }
  }
  return "";
}

// On both stores: the embedded SQLite file and PostgreSQL.
class CampaignE2ETest : public ::testing::TestWithParam<std::string> {};
INSTANTIATE_TEST_SUITE_P(Backends, CampaignE2ETest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param) { return param.param; });

TEST_P(CampaignE2ETest, ResumesAfterSigkillWithEveryRunOnce) {
  std::string dir = test::UniqueTempDir();
  std::string file = dir + "/c.yaml";
  std::ofstream(file) << "name: resume\nscenarios: [" << SWAPCHAOS_QUICK
                      << "]\nseeds: {list: [1, 2]}\n";
  std::string store = GetParam() == "sqlite" ? dir + "/store.db" : test::NewPostgresStoreUrl();
  ASSERT_FALSE(store.empty());
  std::string runs = dir + "/runs";
  std::vector<std::string> args = {"campaign", file, "--store", store, "--runs", runs};
  auto before = test::NetNamespaces();

  auto p = test::StartCli(args, dir + "/first.log");
  ASSERT_TRUE(p);
  // Killed once the first run's VMs are up.
  bool running = false;
  for (int i = 0; i < 1200 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    running = test::ReadFile(runs + "/1.1.log").find("swap on") != std::string::npos;
  }
  ASSERT_TRUE(running) << test::ReadFile(dir + "/first.log");
  EXPECT_EQ(CheckAgentsAreTheControllersAlone(runs), std::make_pair(2, 2));
  std::string work_dir = RunWorkDir(runs);
  ASSERT_FALSE(work_dir.empty());
  p->Signal(SIGKILL);
  ASSERT_TRUE(p->WaitFor(std::chrono::seconds(10)));
  bool clean = false;
  for (int i = 0; i < 100 && !clean; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    clean = test::ProcessesMentioning(runs).empty() && test::NetNamespaces() == before;
  }
  EXPECT_TRUE(clean);
  EXPECT_TRUE(fs::exists(work_dir + "/swap.img"));  // the kernel does not remove files

  int rc = test::RunCli(args, dir + "/second.log", std::chrono::seconds(900));
  std::string log = test::ReadFile(dir + "/second.log");
  EXPECT_EQ(rc, 0) << log;
  EXPECT_NE(log.find("resuming campaign 1"), std::string::npos) << log;
  EXPECT_NE(log.find("1 runs in flight when it stopped run again"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(work_dir)) << "the killed run's scratch dir was never swept";

  auto s = Store::Open(store);
  ASSERT_TRUE(s.ok());
  auto campaigns = (*s)->Campaigns();
  ASSERT_TRUE(campaigns.ok());
  ASSERT_EQ(campaigns->size(), 1u);  // resumed, not a second campaign
  auto all = (*s)->Runs(1);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  for (const StoredRun& r : *all) {
    EXPECT_EQ(r.status, "done") << r.dir;
    EXPECT_EQ(r.verdict, "pass") << r.dir;
    EXPECT_TRUE(fs::exists(r.dir + "/meta.json")) << r.dir;
  }
  EXPECT_EQ((*all)[0].attempts, 2);  // killed once, run again
  EXPECT_EQ((*all)[0].dir, runs + "/1.2");
  EXPECT_FALSE(fs::exists(runs + "/1.1/meta.json"));  // the killed attempt: never a result
  EXPECT_EQ((*all)[1].attempts, 1);
  EXPECT_EQ(test::NetNamespaces(), before);

  // The summary and the failures view agree.
  EXPECT_EQ(test::RunCli({"campaign", "status", "--store", store}, dir + "/status.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/status.log").find("2/2 done"), std::string::npos)
      << test::ReadFile(dir + "/status.log");
  EXPECT_EQ(test::RunCli({"failures", "--store", store}, dir + "/failures.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/failures.log").find("no failing run"), std::string::npos);

  // The store carries each run's results: fetched elsewhere, they are the
  // run's own files, the killed attempt's never among them.
  EXPECT_EQ(test::RunCli({"store", "fetch", "1", "--store", store, "--out", dir + "/fetched"},
                         dir + "/fetch.log"),
            0)
      << test::ReadFile(dir + "/fetch.log");
  for (const char* name : {"meta.json", "verdict.json", "scenario.json", "trace.jsonl",
                           "telemetry.jsonl", "report.html"}) {
    EXPECT_EQ(test::ReadFile(dir + "/fetched/" + name), test::ReadFile(runs + "/1.2/" + name))
        << name;
  }
}

TEST(CampaignInputE2ETest, BadCampaignLeavesTheStoreAlone) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/c.yaml") << "scenarios: [nosuch.yaml]\nseeds: {count: 3}\n";
  EXPECT_EQ(test::RunCli({"campaign", dir + "/c.yaml", "--store", dir + "/store.db"},
                         dir + "/log"),
            2);
  EXPECT_NE(test::ReadFile(dir + "/log").find("c.yaml:1:"), std::string::npos)
      << test::ReadFile(dir + "/log");
  EXPECT_FALSE(fs::exists(dir + "/store.db"));
}

}  // namespace
}  // namespace swapchaos::controller
