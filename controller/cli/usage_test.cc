#include "controller/cli/usage.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

constexpr char kUsage[] = R"(usage: swapchaos COMMAND [FLAGS]

commands:
  run SCENARIO [--seed N] [--ktap]
      [--out DIR]
           the main job. -1 means never.
  kernel show NAME|ID [--json]
           .one kernel's manifest
  completion bash

swapchaos boot flags:
  --memory MIB           victim memory (default 1024)
)";

TEST(UsageTest, EveryUsageWithItsFlagsAndContinuations) {
  std::vector<Synopsis> s = Synopses(kUsage);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].words, (std::vector<std::string>{"run", "x"}));
  EXPECT_EQ(s[0].flags, (std::vector<std::pair<std::string, bool>>{
                            {"--seed", true}, {"--ktap", false}, {"--out", true}}));
  EXPECT_EQ(s[1].words, (std::vector<std::string>{"kernel", "show", "x"}));
  EXPECT_EQ(s[2].words, (std::vector<std::string>{"completion", "bash"}));
  EXPECT_TRUE(s[2].flags.empty());
  EXPECT_EQ(s[3].words, (std::vector<std::string>{"boot"}));
  EXPECT_EQ(s[3].flags, (std::vector<std::pair<std::string, bool>>{{"--memory", true}}));
}

TEST(UsageTest, ManPageEscapesWhatRoffWouldReadAsItsOwn) {
  std::string man = ManPage(kUsage, "swapchaos 0.8.0 (commit abc)");
  EXPECT_NE(man.find(".TP\n.B run SCENARIO [\\-\\-seed N] [\\-\\-ktap]\n.B [\\-\\-out DIR]\n.br\n"),
            std::string::npos)
      << man;
  EXPECT_NE(man.find("\nthe main job. \\-1 means never.\n"), std::string::npos) << man;
  EXPECT_NE(man.find("\n\\&.one kernel's manifest\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".SH SWAPCHAOS BOOT FLAGS\n.TP\n.B \\-\\-memory MIB\nvictim memory"),
            std::string::npos)
      << man;
}

TEST(UsageTest, CompletionKnowsSubcommandsAndValuedFlags) {
  std::string bash = BashCompletion(kUsage);
  EXPECT_NE(bash.find("compgen -W \"boot completion kernel run --help --version\""),
            std::string::npos)
      << bash;
  EXPECT_NE(bash.find("kernel) subs=\"show\" ;;"), std::string::npos) << bash;
  EXPECT_NE(bash.find("\"run\") flags=\"--help --ktap --out --seed\"; valued=\" --out --seed \""),
            std::string::npos)
      << bash;
}

}  // namespace
}  // namespace swapchaos::controller
