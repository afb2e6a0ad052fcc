#include "agents/workload/page_marks.h"

#include <algorithm>
#include <vector>

#include "gtest/gtest.h"

namespace swapchaos::agents::workload {
namespace {

constexpr size_t kWords = 4096 / sizeof(uint64_t);

TEST(PageMarksTest, AMarkedPageChecksClean) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 0x1234);
  EXPECT_FALSE(CheckPage(page.data(), kWords, 0x1234).has_value());
  // The same page does not pass for another pattern (another page or pass).
  EXPECT_TRUE(CheckPage(page.data(), kWords, 0x1235).has_value());
}

TEST(PageMarksTest, EverySectorIsChecked) {
  for (size_t sector = 0; sector < 8; ++sector) {
    std::vector<uint64_t> page(kWords, 0);
    MarkPage(page.data(), kWords, 42);
    page[sector * 64] = 0;  // one sector came back zeroed
    auto m = CheckPage(page.data(), kWords, 42);
    ASSERT_TRUE(m.has_value()) << "sector " << sector;
    EXPECT_EQ(m->word, sector * 64);
    EXPECT_EQ(m->found, 0u);
  }
}

TEST(PageMarksTest, ASectorInTheWrongPlaceIsCaught) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 7);
  std::copy(page.begin(), page.begin() + 64, page.begin() + 128);  // sector 0 over sector 2
  auto m = CheckPage(page.data(), kWords, 7);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->word, 128u);
}

TEST(PageMarksTest, TheLastWordIsChecked) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 9);
  EXPECT_EQ(page[kWords - 1], ~uint64_t{9});
  page[kWords - 1] ^= 1;
  auto m = CheckPage(page.data(), kWords, 9);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->word, kWords - 1);
}

}  // namespace
}  // namespace swapchaos::agents::workload
