#include "kernels/kconfig.h"

#include "gtest/gtest.h"

namespace swapchaos::kernels {
namespace {

TEST(KconfigTest, ParsesValuesAndNotSet) {
  auto c = ParseKconfig(
      "# Linux/x86 6.1 Kernel Configuration\nCONFIG_SWAP=y\n# CONFIG_PSI is not set\n"
      "CONFIG_LOCALVERSION=\"-x\"\nCONFIG_NR_CPUS=64\n\n",
      "a.config");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->at("CONFIG_SWAP"), "y");
  EXPECT_EQ(c->at("CONFIG_PSI"), "n");
  EXPECT_EQ(c->at("CONFIG_LOCALVERSION"), "\"-x\"");
  EXPECT_EQ(c->at("CONFIG_NR_CPUS"), "64");
  EXPECT_EQ(c->size(), 4u);
}

TEST(KconfigTest, ErrorsNameFileAndLine) {
  auto c = ParseKconfig("CONFIG_SWAP=y\nSWAP=y\n", "frag.config");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("frag.config:2:"), std::string::npos) << c.status();
  EXPECT_FALSE(ParseKconfig("CONFIG_A y\n", "f").ok());
  EXPECT_FALSE(ParseKconfig("CONFIG_=y\n", "f").ok());
}

TEST(KconfigTest, LaterFragmentWinsAndFormatReadsBack) {
  auto base = ParseKconfig("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n", "base");
  auto over = ParseKconfig("# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_D=\"x y\"\n", "over");
  ASSERT_TRUE(base.ok() && over.ok());
  Kconfig merged = MergeKconfig(*base, *over);
  EXPECT_EQ(merged.at("CONFIG_A"), "y");
  EXPECT_EQ(merged.at("CONFIG_B"), "n");
  EXPECT_EQ(merged.at("CONFIG_C"), "m");
  std::string text = FormatKconfig(merged);
  EXPECT_EQ(text,
            "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_D=\"x y\"\n");
  auto again = ParseKconfig(text, "merged");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, merged);
}

TEST(KconfigTest, MissingOptionsListsWhatKconfigDropped) {
  auto final_config = ParseKconfig("CONFIG_SWAP=y\nCONFIG_NBD=m\n# CONFIG_ACPI is not set\n", "f");
  auto wanted = ParseKconfig(
      "CONFIG_SWAP=y\nCONFIG_NBD=y\nCONFIG_PSI=y\nCONFIG_ACPI=y\n# CONFIG_DEBUG_INFO is not set\n",
      "w");
  ASSERT_TRUE(final_config.ok() && wanted.ok());
  EXPECT_EQ(MissingOptions(*final_config, *wanted),
            (std::vector<std::string>{"CONFIG_ACPI (wanted y, got not set)",
                                      "CONFIG_NBD (wanted y, got m)",
                                      "CONFIG_PSI (wanted y, got not set)"}));
  EXPECT_TRUE(MissingOptions(*wanted, *wanted).empty());
}

// The fragment every kernel is built with parses and asks for what the
// oracles read (without these a kernel boots but cannot be judged).
TEST(KconfigTest, SwapchaosFragmentHasWhatTheOraclesNeed) {
  auto f = ParseKconfig(SwapchaosFragment(), "swapchaos.config");
  ASSERT_TRUE(f.ok()) << f.status();
  for (const char* option : {"CONFIG_VM_EVENT_COUNTERS", "CONFIG_PSI", "CONFIG_KALLSYMS",
                             "CONFIG_DETECT_HUNG_TASK", "CONFIG_BLK_DEV_NBD", "CONFIG_SWAP",
                             "CONFIG_VIRTIO_NET", "CONFIG_NET_SCH_NETEM", "CONFIG_ACPI",
                             "CONFIG_SLUB"}) {
    EXPECT_EQ(f->count(option), 1u) << option;
    EXPECT_EQ(f->at(option), "y") << option;
  }
  EXPECT_EQ(f->at("CONFIG_SLOB"), "n");  // no pfmemalloc tracking in SLOB
}

}  // namespace
}  // namespace swapchaos::kernels
