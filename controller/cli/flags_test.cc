#include "controller/cli/flags.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

const std::map<std::string, std::string> kKnown = {
    {"memory", "512"}, {"swap-size", "1G"}, {"out", ""}};

TEST(FlagsTest, DefaultsAndBothSpellings) {
  auto f = Flags::Parse({"--memory=256", "--out", "/tmp/x"}, kKnown);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f->GetUint("memory"), 256u);
  EXPECT_EQ(f->Get("out"), "/tmp/x");
  EXPECT_EQ(*f->GetSize("swap-size"), 1ULL << 30);
}

TEST(FlagsTest, UnknownFlagIsNamed) {
  auto f = Flags::Parse({"--memroy", "256"}, kKnown);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--memroy"), std::string::npos);
}

TEST(FlagsTest, MissingValueAndStrayArgument) {
  EXPECT_FALSE(Flags::Parse({"--out"}, kKnown).ok());
  EXPECT_FALSE(Flags::Parse({"stray"}, kKnown).ok());
}

TEST(FlagsTest, SwitchesAndRepeatedFlags) {
  auto f = Flags::Parse({"--slurm", "--out", "a", "--out", "b"}, kKnown, {"slurm", "dry"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Has("slurm"));
  EXPECT_FALSE(f->Has("dry"));
  EXPECT_EQ(f->Get("out"), "b");
  EXPECT_EQ(f->GetAll("out"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(f->GetAll("memory").empty());
  auto valued = Flags::Parse({"--slurm=yes"}, kKnown, {"slurm"});
  ASSERT_FALSE(valued.ok());
  EXPECT_NE(valued.status().message().find("--slurm takes no value"), std::string::npos);
  // An unknown flag last on the line is named as unknown, not as valueless.
  auto unknown = Flags::Parse({"--nosuch"}, kKnown);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown flag --nosuch"), std::string::npos);
  auto missing = Flags::Parse({"--memory", "256", "--out"}, kKnown);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "--out needs a value");
  auto empty = Flags::Parse({"--out="}, kKnown);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "--out needs a value");
  auto stray = Flags::Parse({"--memory", "256", "stray"}, kKnown);
  ASSERT_FALSE(stray.ok());
  EXPECT_EQ(stray.status().message(), "unexpected argument 'stray'");
  // A value may look like a flag (sbatch's own), with or without "=".
  auto dashed = Flags::Parse({"--out=--time=10", "--out", "--qos", "--memory", "-1"}, kKnown);
  ASSERT_TRUE(dashed.ok()) << dashed.status();
  EXPECT_EQ(dashed->GetAll("out"), (std::vector<std::string>{"--time=10", "--qos"}));
  EXPECT_EQ(dashed->Get("memory"), "-1");
}

TEST(FlagsTest, Sizes) {
  for (auto [text, bytes] : std::vector<std::pair<std::string, uint64_t>>{
           {"4096", 4096}, {"64k", 64 << 10}, {"512M", 512ULL << 20}, {"2G", 2ULL << 30}}) {
    auto f = Flags::Parse({"--swap-size", text}, kKnown);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(*f->GetSize("swap-size"), bytes) << text;
  }
  for (const char* bad : {"G", "1X", "-1G", "1.5G", "99999999999999T"}) {
    auto f = Flags::Parse({"--swap-size", bad}, kKnown);
    ASSERT_TRUE(f.ok());
    auto size = f->GetSize("swap-size");
    ASSERT_FALSE(size.ok()) << bad;
    EXPECT_NE(size.status().message().find("--swap-size"), std::string::npos);
  }
}

TEST(FlagsTest, NonNumberIsNamed) {
  auto f = Flags::Parse({"--memory", "lots"}, kKnown);
  ASSERT_TRUE(f.ok());
  auto m = f->GetUint("memory");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("--memory"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::controller
