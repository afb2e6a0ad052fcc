// The command line's bad-input paths, run as a user would: each must exit 2
// with a message naming what is wrong, and start nothing.
#include "testing/cli.h"

#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "controller/cli/usage.h"
#include "controller/store/store.h"
#include "gtest/gtest.h"
#include "swapchaos/output.pb.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {
namespace fs = std::filesystem;

class CliBadInputTest : public testing::Test {
 protected:
  // Runs `swapchaos boot ARGS --out <fresh dir>`, expects exit 2 and `needle`.
  void ExpectBadInput(std::vector<std::string> args, const std::string& needle) {
    std::string dir = test::UniqueTempDir();
    std::string out = dir + "/out";
    args.insert(args.begin(), "boot");
    args.insert(args.end(), {"--out", out, "--cache", dir + "/cache"});
    auto before = test::NetNamespaces();
    EXPECT_EQ(test::RunCli(args, dir + "/log"), 2);
    std::string log = test::ReadFile(dir + "/log");
    EXPECT_NE(log.find(needle), std::string::npos) << log;
    EXPECT_TRUE(test::ProcessesMentioning(out).empty());
    EXPECT_EQ(test::NetNamespaces(), before);
    EXPECT_TRUE(!fs::exists(out) || fs::is_empty(out)) << "bad input left results behind";
  }
};

TEST_F(CliBadInputTest, KernelThatDoesNotExist) {
  ExpectBadInput({"--kernel", "/nonexistent/bzImage"}, "kernel /nonexistent/bzImage");
}

TEST_F(CliBadInputTest, KernelThatIsNotAKernel) {
  std::string bogus = test::UniqueTempDir() + "/bogus";
  std::ofstream(bogus) << std::string(70000, 'x');
  ExpectBadInput({"--kernel", bogus}, "not an x86 bzImage");
}

TEST_F(CliBadInputTest, ModulesDirectoryWithoutModules) {
  ExpectBadInput({"--modules", "/nonexistent/modules"}, "modules directory /nonexistent/modules");
}

TEST_F(CliBadInputTest, UnknownFlag) {
  ExpectBadInput({"--memroy", "512"}, "unknown flag --memroy");
}

TEST_F(CliBadInputTest, MemoryOutOfRange) { ExpectBadInput({"--memory", "64"}, "--memory"); }

TEST_F(CliBadInputTest, NotANumber) { ExpectBadInput({"--cpus", "two"}, "--cpus"); }

TEST_F(CliBadInputTest, BadSwapSize) { ExpectBadInput({"--swap-size", "1Q"}, "--swap-size"); }

TEST_F(CliBadInputTest, OutDirectoryWithResults) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/meta.json") << "{}";
  EXPECT_EQ(test::RunCli({"boot", "--out", dir}, dir + ".log"), 2);
  EXPECT_NE(test::ReadFile(dir + ".log").find("already holds files"), std::string::npos);
  EXPECT_EQ(test::ReadFile(dir + "/meta.json"), "{}");
}

TEST(CliTest, CheckNamesTheLineOfABadScenario) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/bad.yaml") << "name: bad\nvm:\n  cpus: lots\ndeadline_s: 10\n";
  EXPECT_EQ(test::RunCli({"check", dir + "/bad.yaml"}, dir + "/bad.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/bad.log").find(dir + "/bad.yaml:3:3: vm.cpus"),
            std::string::npos)
      << test::ReadFile(dir + "/bad.log");
  std::string good = std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml";
  EXPECT_EQ(test::RunCli({"check", good}, dir + "/good.log"), 0)
      << test::ReadFile(dir + "/good.log");
  EXPECT_NE(test::ReadFile(dir + "/good.log").find("ok: smoke, 2 faults"), std::string::npos);
}

// bisect checks its scenario, source and series before building anything.
TEST(CliTest, BisectRefusesWhatItCannotBuildOrRun) {
  std::string dir = test::UniqueTempDir();
  std::string scenario = std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml";
  fs::create_directories(dir + "/empty-series");
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"--series", dir, "--scenario", scenario}, "missing --kernel-source"},
      {{"--kernel-source", dir + "/no.tar.xz", "--series", dir + "/empty-series", "--scenario",
        scenario},
       "no.tar.xz"},
      {{"--kernel-source", "/usr/src/linux-source-6.1.tar.xz", "--series", dir + "/empty-series",
        "--scenario", scenario},
       "holds no patches"},
      {{"--kernel-source", "/usr/src/linux-source-6.1.tar.xz", "--series", dir + "/empty-series",
        "--scenario", dir + "/none.yaml"},
       "none.yaml"},
  };
  int i = 0;
  for (Case& c : cases) {
    std::string out = dir + "/out" + std::to_string(i);
    c.args.insert(c.args.begin(), "bisect");
    c.args.insert(c.args.end(),
                  {"--out", out, "--kernels", dir + "/kernels", "--store", dir + "/store.db"});
    std::string log = dir + "/" + std::to_string(i++) + ".log";
    EXPECT_EQ(test::RunCli(c.args, log), 2) << test::ReadFile(log);
    EXPECT_NE(test::ReadFile(log).find(c.needle), std::string::npos) << test::ReadFile(log);
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_FALSE(fs::exists(dir + "/kernels"));
  EXPECT_FALSE(fs::exists(dir + "/store.db"));
}

// Seeds are a count or a range; anything else is refused before anything
// is stored or started.
TEST(CliTest, CertifySeedsAreACountOrARange) {
  std::string dir = test::UniqueTempDir();
  int i = 0;
  for (const char* bad : {"0", "5..2", "0..3", "1..", "two", "1..2..3"}) {
    std::string log = dir + "/" + std::to_string(i++) + ".log";
    EXPECT_EQ(test::RunCli({"certify", "--kernel", "default", "--seeds", bad, "--out", dir + "/out",
                            "--store", dir + "/store.db"},
                           log),
              2)
        << bad;
    EXPECT_NE(test::ReadFile(log).find("--seeds must be N (seeds 1..N) or A..B"), std::string::npos)
        << bad << ": " << test::ReadFile(log);
  }
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_FALSE(fs::exists(dir + "/store.db"));
}

TEST(CliTest, UnknownCommandAndHelp) {
  std::string dir = test::UniqueTempDir();
  EXPECT_EQ(test::RunCli({"frobnicate"}, dir + "/a.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/a.log").find("unknown command 'frobnicate' (commands: boot,"),
            std::string::npos);
  // A command line a command cannot take: the problem, then its usage alone.
  const std::pair<std::vector<std::string>, std::string> misuses[] = {
      {{"run", "x.yaml", "--json"},
       "swapchaos: unknown flag --json\nusage: swapchaos run SCENARIO [--seed N]"},
      {{"analyze", "x", "--ktap=1"},
       "swapchaos: --ktap takes no value\nusage: swapchaos analyze DIR [--junit FILE] [--ktap]\n"},
      {{"kernel", "list", "--kernels"},
       "swapchaos: --kernels needs a value\nusage: swapchaos kernel build"},
      {{"boot", "--memroy", "1"},
       "swapchaos: unknown flag --memroy\nusage: swapchaos boot [FLAGS] (swapchaos boot --help)\n"},
  };
  for (const auto& [args, want] : misuses) {
    std::string log = dir + "/misuse-" + args[0] + ".log";
    EXPECT_EQ(test::RunCli(args, log), 2) << args[0];
    std::string out = test::ReadFile(log);
    EXPECT_NE(out.find(want), std::string::npos) << out;
    EXPECT_EQ(out.find("  analyze DIR"), std::string::npos) << "the whole usage:\n" << out;
  }
  EXPECT_EQ(test::RunCli({"--help"}, dir + "/b.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/b.log").find("swapchaos boot flags"), std::string::npos);
  EXPECT_EQ(test::RunCli({"--version"}, dir + "/v.log"), 0);
  EXPECT_NE(test::ReadFile(dir + "/v.log").find("swapchaos 0."), std::string::npos);
  EXPECT_NE(test::ReadFile(dir + "/v.log").find("(commit "), std::string::npos);
  // Every command answers --help with its own usage, wherever the flag is.
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"run", "--help"}, "  run SCENARIO [--seed N]"},
      {{"certify", "--kernel", "x", "--help"}, "  certify --kernel default|BZIMAGE|NAME|ID"},
      {{"campaign", "-h"}, "  campaign status [--store URL]"},
      {{"worker", "--help"}, "  worker [--store URL] [--campaign ID]"},
      {{"kernel", "build", "--help"}, "  kernel build --source TARBALL|GIT_TREE"},
      {{"boot", "--help"}, "  --min-free-kbytes KIB"},
      {{"bisect", "--help"}, "  bisect --kernel-source"},
  };
  for (const auto& [args, want] : cases) {
    std::string log = dir + "/help-" + args[0] + ".log";
    EXPECT_EQ(test::RunCli(args, log), 0) << args[0];
    std::string out = test::ReadFile(log);
    EXPECT_NE(out.find(want), std::string::npos) << out;
    EXPECT_EQ(out.find("  analyze DIR"), std::string::npos) << "another command's usage:\n" << out;
  }
}

// Every usage in `swapchaos --help`, as the program itself reads it.
std::vector<Synopsis> HelpSynopses() {
  std::string dir = test::UniqueTempDir();
  EXPECT_EQ(test::RunCli({"--help"}, dir + "/help.log"), 0);
  return Synopses(test::ReadFile(dir + "/help.log"));
}

// The completion the package installs, in a real bash: commands,
// subcommands, a subcommand's own flags, and files for a flag's value.
TEST(CliTest, BashCompletesCommandsFlagsAndFiles) {
  std::string dir = test::UniqueTempDir();
  ASSERT_EQ(test::RunCli({"completion", "bash"}, dir + "/c.bash"), 0);
  std::ofstream(dir + "/smoke.yaml") << "";
  auto complete = [&](const std::string& words) {
    return test::ShellOutput("cd " + dir + " && bash -c 'source c.bash; COMP_WORDS=(" + words +
                             "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _swapchaos; "
                             "echo ${COMPREPLY[*]}' 2>&1");
  };
  EXPECT_EQ(complete("swapchaos cer"), "certify\n");
  EXPECT_EQ(complete("swapchaos kernel s"), "show\n");
  EXPECT_EQ(complete("swapchaos kernel build --so"), "--source\n");
  EXPECT_EQ(complete("swapchaos campaign status --j"), "--json\n");
  EXPECT_EQ(complete("swapchaos run smoke.yaml --out sm"), "smoke.yaml\n");
  EXPECT_EQ(complete("swapchaos run sm"), "smoke.yaml\n");
  EXPECT_EQ(test::RunCli({"completion", "zsh"}, dir + "/zsh.log"), 2);
}

// The man page is the usage in roff: every command, and nothing man(7)
// would read as a request of its own.
TEST(CliTest, ManPageCarriesEveryCommand) {
  std::string dir = test::UniqueTempDir();
  ASSERT_EQ(test::RunCli({"manpage"}, dir + "/swapchaos.1"), 0);
  std::string man = test::ReadFile(dir + "/swapchaos.1");
  EXPECT_TRUE(man.starts_with(".TH SWAPCHAOS 1 ")) << man;
  for (const Synopsis& s : HelpSynopses()) {
    if (s.words[0] == "boot") continue;  // its rows are flags
    EXPECT_NE(man.find("\n.B " + s.words[0]), std::string::npos) << s.words[0];
  }
  EXPECT_NE(man.find(".B certify \\-\\-kernel default|BZIMAGE|NAME|ID"), std::string::npos);
  std::set<std::string> macros = {".TH", ".SH", ".TP", ".B", ".I", ".BR", ".br"};
  for (const std::string& line : std::vector<std::string>(absl::StrSplit(man, '\n'))) {
    if (!line.starts_with(".") && !line.starts_with("'")) continue;
    std::string macro(line.substr(0, line.find(' ')));
    EXPECT_TRUE(macros.contains(macro)) << line;
  }
}

// The flags each usage lists are ones the command takes: given with a
// bogus flag after it, the bogus one is the one refused.
TEST(CliTest, EveryFlagInHelpIsTaken) {
  std::string dir = test::UniqueTempDir();
  std::vector<Synopsis> synopses = HelpSynopses();
  ASSERT_GT(synopses.size(), 30u);
  int probed = 0;
  for (const Synopsis& s : synopses) {
    for (const auto& [flag, value] : s.flags) {
      std::vector<std::string> args = s.words;
      args.push_back(flag);
      if (value) args.push_back("x");
      args.insert(args.end(), {"--not-a-flag", "y"});
      std::string log = absl::StrCat(dir, "/", probed++, ".log");
      EXPECT_EQ(test::RunCli(args, log), 2) << absl::StrJoin(args, " ");
      EXPECT_NE(test::ReadFile(log).find("unknown flag --not-a-flag"), std::string::npos)
          << absl::StrJoin(args, " ") << ":\n" << test::ReadFile(log);
    }
  }
  EXPECT_GT(probed, 80);
}

// The README's synopses and --help list the same flags, command by command.
TEST(CliTest, ReadmeSynopsesMatchHelp) {
  std::map<std::string, std::set<std::string>> help, readme;
  for (const Synopsis& s : HelpSynopses()) {
    for (const auto& f : s.flags) help[s.words[0]].insert(f.first);
    help[s.words[0]];
  }
  // In the README's code blocks: "swapchaos COMMAND ..." and its indented
  // continuation lines.
  std::string entry;
  bool code = false;
  auto flush = [&] {
    if (entry.empty()) return;
    Synopsis s = ParseSynopsis(entry.substr(10));
    for (const auto& f : s.flags) readme[s.words[0]].insert(f.first);
    readme[s.words[0]];
    entry.clear();
  };
  std::vector<std::string> lines = absl::StrSplit(test::ReadFile(SWAPCHAOS_README), '\n');
  for (const std::string& line : lines) {
    if (line.starts_with("```")) {
      flush();
      code = !code;
    } else if (code && line.starts_with("swapchaos ")) {
      flush();
      entry = line;
    } else if (code && !entry.empty() && line.starts_with(" ")) {
      entry += line;
    } else {
      flush();
    }
  }
  ASSERT_FALSE(help.empty());
  for (const auto& [command, flags] : help) {
    ASSERT_TRUE(readme.contains(command)) << "the README has no synopsis of " << command;
    EXPECT_EQ(readme[command], flags) << command << ": README (left) and --help (right) differ";
  }
}

// A store path that is a symlink loop aborted the store commands; one that
// is someone else's database got our tables.
TEST(CliTest, StoresThatAreNotStoresAreRefused) {
  std::string dir = test::UniqueTempDir();
  fs::create_symlink(dir + "/loop.db", dir + "/loop.db");
  EXPECT_EQ(test::RunCli({"campaign", "status", "--store", dir + "/loop.db"}, dir + "/a.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/a.log").find("Too many levels of symbolic links"),
            std::string::npos)
      << test::ReadFile(dir + "/a.log");
  std::ofstream(dir + "/other.db") << std::string(4096, 'x');
  EXPECT_EQ(test::RunCli({"failures", "--store", dir + "/other.db"}, dir + "/b.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/b.log").find("not a database"), std::string::npos)
      << test::ReadFile(dir + "/b.log");
  // Another tool's database is a store that is there but not ours: the
  // environment's (3), as an unreachable one is.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/notes.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(test::RunCli({"store", "import", dir + "/notes.db", "--store", dir + "/s.db"},
                         dir + "/c.log"),
            3);
  EXPECT_NE(test::ReadFile(dir + "/c.log")
                .find("not a swapchaos store (application_id 0, tables "
                      "notes); not touching it"),
            std::string::npos)
      << test::ReadFile(dir + "/c.log");
  EXPECT_FALSE(fs::exists(dir + "/s.db")) << "nothing written while a source is refused";
}

// PostgreSQL stores: a password in the URL or a malformed URL are the
// user's to fix (2); a server that does not answer is the environment's
// (3). Each message names the store, never a password.
TEST(CliTest, PostgresStoreFailuresAreNamed) {
  std::string dir = test::UniqueTempDir();
  EXPECT_EQ(test::RunCli({"campaign", "status", "--store", "postgresql://me:hunter2@db/x"},
                         dir + "/pw.log"),
            2);
  std::string pw = test::ReadFile(dir + "/pw.log");
  EXPECT_NE(pw.find("~/.pgpass"), std::string::npos) << pw;
  EXPECT_EQ(pw.find("hunter2"), std::string::npos) << pw;
  EXPECT_EQ(test::RunCli({"failures", "--store", "postgresql://db/x?nosuch=1"}, dir + "/url.log"),
            2);
  EXPECT_NE(test::ReadFile(dir + "/url.log").find("nosuch"), std::string::npos)
      << test::ReadFile(dir + "/url.log");
  EXPECT_EQ(test::RunCli({"worker", "--store",
                          "postgresql:///x?host=" + dir + "&connect_timeout=2"},
                         dir + "/down.log"),
            3);
  EXPECT_NE(test::ReadFile(dir + "/down.log").find("store postgresql:///x"), std::string::npos)
      << test::ReadFile(dir + "/down.log");
  // No store there: neither a worker nor a read-only command creates one.
  EXPECT_EQ(test::RunCli({"worker", "--store", dir + "/s.db", "--campaign", "9"},
                         dir + "/none.log"),
            2);
  EXPECT_EQ(test::RunCli({"campaign", "status", "--store", dir + "/s.db"}, dir + "/new.log"), 2)
      << "a read-only command does not create a store";
}

// The service's socket is its owner's alone; nothing else at its path is
// removed, and no TCP port is offered.
TEST(CliTest, ServeListensOnlyOnASocketOfItsOwn) {
  std::string dir = test::UniqueTempDir();
  EXPECT_EQ(test::RunCli({"serve", "--listen", "127.0.0.1:5999", "--store", dir + "/s.db"},
                         dir + "/tcp.log"),
            2);
  EXPECT_NE(test::ReadFile(dir + "/tcp.log").find("--listen must be unix:PATH"), std::string::npos);
  std::ofstream(dir + "/precious") << "keep me\n";
  EXPECT_EQ(
      test::RunCli({"serve", "--listen", "unix:" + dir + "/precious", "--store", dir + "/s.db"},
                   dir + "/file.log"),
      2);
  EXPECT_NE(test::ReadFile(dir + "/file.log").find("precious exists and is not a socket"),
            std::string::npos)
      << test::ReadFile(dir + "/file.log");
  EXPECT_EQ(test::ReadFile(dir + "/precious"), "keep me\n");

  auto server =
      test::StartCli({"serve", "--listen", "unix:" + dir + "/c.sock", "--store", dir + "/s.db"},
                     dir + "/serve.log");
  ASSERT_TRUE(server);
  struct stat st {};
  for (int i = 0; i < 100 && lstat((dir + "/c.sock").c_str(), &st) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(S_ISSOCK(st.st_mode)) << test::ReadFile(dir + "/serve.log");
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server->Signal(SIGTERM);
  ASSERT_TRUE(server->WaitFor(std::chrono::seconds(30)));
  EXPECT_EQ(server->DescribeExit(), "exited with status 0");
  EXPECT_FALSE(fs::exists(dir + "/c.sock"));
}

// What a command prints on stdout with --json, parsed strictly into its
// message (an unknown key fails): the schema is output.proto's.
template <typename Message>
Message JsonOf(const std::vector<std::string>& args) {
  std::string cmd = SWAPCHAOS_CLI;
  for (const std::string& a : args) cmd += " '" + a + "'";
  std::string out = test::ShellOutput(cmd + " 2>/dev/null");
  Message m;
  auto st = google::protobuf::util::JsonStringToMessage(out, &m);
  EXPECT_TRUE(st.ok()) << st << "\n" << out;
  EXPECT_TRUE(m.tool().starts_with("swapchaos 0.")) << out;
  return m;
}

TEST(CliTest, JsonForCheckStoreAndKernels) {
  std::string dir = test::UniqueTempDir();
  std::ofstream(dir + "/bad.yaml") << "name: bad\nvm:\n  cpus: lots\ndeadline_s: 10\n";
  std::string good = std::string(SWAPCHAOS_SCENARIOS) + "/smoke.yaml";
  auto check = JsonOf<CheckOutput>({"check", good, dir + "/bad.yaml", "--json"});
  ASSERT_EQ(check.files_size(), 2);
  EXPECT_TRUE(check.files(0).ok());
  EXPECT_EQ(check.files(0).name(), "smoke");
  EXPECT_EQ(check.files(0).faults(), 2u);
  EXPECT_FALSE(check.files(1).ok());
  EXPECT_NE(check.files(1).error().find(dir + "/bad.yaml:3:3: vm.cpus"), std::string::npos);
  EXPECT_EQ(test::RunCli({"check", good, "--json"}, dir + "/ok.log"), 0);
  EXPECT_EQ(test::RunCli({"check", dir + "/bad.yaml", "--json"}, dir + "/bad.log"), 2);
  EXPECT_EQ(test::RunCli({"check", good, "--jsn"}, dir + "/typo.log"), 2);
  EXPECT_NE(test::ReadFile(dir + "/typo.log").find("unknown flag --jsn"), std::string::npos);

  {
    auto store = Store::Open(dir + "/s.db");
    ASSERT_TRUE(store.ok()) << store.status();
    auto id = (*store)->CreateCampaign("c", "c.yaml", "abc", {{"a.yaml", 1, ""}, {"a.yaml", 2, ""}});
    ASSERT_TRUE(id.ok()) << id.status();
    auto run = (*store)->Claim(*id, [](int64_t i, int a) { return absl::StrCat("r/", i, ".", a); });
    ASSERT_TRUE(run.ok() && run->has_value());
    StoredRun done = **run;
    done.status = "done";
    done.verdict = "fail";
    done.signature = "page content mismatch";
    ASSERT_TRUE((*store)->Finish(done).ok());
  }
  auto status = JsonOf<CampaignStatusOutput>({"campaign", "status", "--store", dir + "/s.db", "--json"});
  ASSERT_EQ(status.campaigns_size(), 1);
  EXPECT_EQ(status.campaigns(0).total(), 2u);
  EXPECT_EQ(status.campaigns(0).failed(), 1u);
  ASSERT_EQ(status.campaigns(0).runs_size(), 2);
  EXPECT_EQ(status.campaigns(0).runs(0).signature(), "page content mismatch");
  EXPECT_EQ(status.campaigns(0).runs(1).status(), "pending");
  auto failures = JsonOf<FailuresOutput>({"failures", "--store", dir + "/s.db", "--json"});
  ASSERT_EQ(failures.failures_size(), 1);
  EXPECT_EQ(failures.failures(0).count(), 1u);
  EXPECT_EQ(failures.failures(0).signature(), "page content mismatch");

  auto none = JsonOf<KernelListOutput>({"kernel", "list", "--kernels", dir + "/k", "--json"});
  EXPECT_EQ(none.kernels_size(), 0);
}

// A judged run as KTAP on stdout and JUnit in a file, for harnesses: an
// oops on the console fails console_clean, and so the run.
TEST(CliTest, AnalyzeSpeaksKtapAndJUnit) {
  std::string dir = test::UniqueTempDir() + "/run";
  fs::copy(std::string(SWAPCHAOS_ORACLE_TESTDATA) + "/smoke-pass", dir, fs::copy_options::recursive);
  std::string pass = test::ShellOutput(std::string(SWAPCHAOS_CLI) + " analyze " + dir +
                                       " --ktap 2>/dev/null");
  EXPECT_TRUE(pass.starts_with("KTAP version 1\n")) << pass;
  EXPECT_NE(pass.find("\n  ok 2 console_clean\n"), std::string::npos) << pass;
  EXPECT_TRUE(pass.ends_with("\nok 1 smoke\n")) << pass;
  std::ofstream(dir + "/console.log", std::ios::app)
      << "[  100.1] Oops: general protection fault, probably for non-canonical address "
         "0xdead: 0000 [#1] PREEMPT SMP NOPTI\n";
  EXPECT_EQ(test::RunCli({"analyze", dir, "--ktap", "--junit", dir + "/junit.xml"}, dir + ".log"), 1);
  std::string fail = test::ReadFile(dir + ".log");
  EXPECT_NE(fail.find("\n  not ok 2 console_clean\n"), std::string::npos) << fail;
  EXPECT_NE(fail.find("\nnot ok 1 smoke\n"), std::string::npos) << fail;
  std::string junit = test::ReadFile(dir + "/junit.xml");
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("name=\"console_clean\"><failure message=\"general protection fault\">"),
            std::string::npos)
      << junit;
  EXPECT_EQ(test::RunCli({"analyze", dir, "--ktpa"}, dir + ".typo.log"), 2);
}

}  // namespace
}  // namespace swapchaos::controller
