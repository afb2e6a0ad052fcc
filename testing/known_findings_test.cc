#include "testing/known_findings.h"

#include "gtest/gtest.h"

namespace swapchaos::test {
namespace {

// The list in the tree loads, and every entry is complete.
TEST(KnownFindingsTest, TheListLoads) {
  auto known = LoadKnownFindings(SWAPCHAOS_KNOWN_FINDINGS);
  ASSERT_TRUE(known.ok()) << known.status();
  EXPECT_GE(known->size(), 3u);
  for (const KnownFinding& k : *known) EXPECT_FALSE(k.why.empty()) << k.name;
}

// A failure is accepted only with its kernel, its exact signature and every
// console title the entry names.
TEST(KnownFindingsTest, OnlyTheExactFindingMatches) {
  auto known = LoadKnownFindings(SWAPCHAOS_KNOWN_FINDINGS);
  ASSERT_TRUE(known.ok()) << known.status();
  const std::string deadlock =
      "[ 9.4] kworker/u3:1: page allocation failure: order:0, "
      "mode:0x40c00(GFP_NOIO|__GFP_MEMALLOC|__GFP_COMP), nodemask=(null)\n"
      "[ 9.4] Call Trace:\n[ 9.4]  <TASK>\n[ 9.4]  warn_alloc+0x138/0x160\n"
      "[ 9.4]  skb_page_frag_refill+0x8e/0x100\n[ 9.4]  tcp_sendmsg_locked+0x2f4/0xb90\n"
      "[ 9.4]  </TASK>\n";
  const std::string built = "6.1.192-swapchaos-0ab12";
  auto m = MatchKnownFinding(*known, {built, "stalled before any fault", deadlock, 1880});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name, "tiny-config-highatomic-deadlock");
  // Another signature, another kernel, or a console without the report: no.
  EXPECT_FALSE(MatchKnownFinding(*known, {built, "page content mismatch", deadlock, 1880}));
  EXPECT_FALSE(MatchKnownFinding(*known, {built, "stalled before any fault", "[ 1.0] ok\n", 1880}));
  EXPECT_FALSE(MatchKnownFinding(
      *known, {"6.1.0-57-cloud-amd64", "page content mismatch", deadlock, 1880}));
  // Nor a run that had the reserve its scenario gives by default (5% of 256
  // MiB): the starved-reserve findings do not excuse it.
  EXPECT_FALSE(MatchKnownFinding(*known, {built, "stalled before any fault", deadlock, 13107}));
}

TEST(KnownFindingsTest, ABadListNamesItsFile) {
  std::string path = ::testing::TempDir() + "/bad-findings.yaml";
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("- name: x\n  kernel: ''\n  signatures: [s]\n  console: []\n  why: w\n", f);
  fclose(f);
  auto known = LoadKnownFindings(path);
  ASSERT_FALSE(known.ok());
  EXPECT_NE(known.status().message().find("bad-findings.yaml:1"), std::string::npos)
      << known.status();
}

}  // namespace
}  // namespace swapchaos::test
