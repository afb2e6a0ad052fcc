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

TEST(PageMarksTest, EveryWordDiffers) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 99);
  std::vector<uint64_t> sorted = page;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
}

// The property: one bit flipped at any offset of the page is caught, and
// named down to the byte.
TEST(PageMarksTest, EveryFlippedBitIsCaught) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 0xfeedface);
  auto* bytes = reinterpret_cast<uint8_t*>(page.data());
  for (size_t byte = 0; byte < kWords * 8; ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      const uint8_t before = bytes[byte];
      bytes[byte] ^= static_cast<uint8_t>(1u << bit);
      auto m = CheckPage(page.data(), kWords, 0xfeedface);
      ASSERT_TRUE(m.has_value()) << "byte " << byte << " bit " << bit;
      EXPECT_EQ(m->first_byte, byte);
      EXPECT_EQ(m->bytes_differ, 1u);
      EXPECT_EQ(m->expected, before);
      EXPECT_EQ(m->found, bytes[byte]);
      EXPECT_EQ(m->word, byte / 8);
      bytes[byte] = before;
    }
  }
  EXPECT_FALSE(CheckPage(page.data(), kWords, 0xfeedface).has_value());
}

TEST(PageMarksTest, ASectorInTheWrongPlaceIsCaught) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 7);
  std::copy(page.begin(), page.begin() + 64, page.begin() + 128);  // sector 0 over sector 2
  auto m = CheckPage(page.data(), kWords, 7);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->first_byte, 128u * 8);
  EXPECT_EQ(m->word, 128u);
  EXPECT_GT(m->bytes_differ, 400u);  // nearly every byte of the sector
  EXPECT_LE(m->bytes_differ, 512u);
}

TEST(PageMarksTest, AZeroedPageCountsEveryByte) {
  std::vector<uint64_t> page(kWords, 0);
  auto m = CheckPage(page.data(), kWords, 5);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->first_byte, 0u);
  EXPECT_EQ(m->expected, 5u);
  EXPECT_EQ(m->found, 0u);
  EXPECT_GT(m->bytes_differ, 4000u);
}

TEST(PageMarksTest, TheDescriptionNamesTheByte) {
  std::vector<uint64_t> page(kWords, 0);
  MarkPage(page.data(), kWords, 0);
  reinterpret_cast<uint8_t*>(page.data())[1234] ^= 0xff;
  auto m = CheckPage(page.data(), kWords, 0);
  ASSERT_TRUE(m.has_value());
  std::string d = DescribeMismatch(*m, kWords);
  EXPECT_TRUE(d.starts_with("1 of 4096 bytes differ, first at byte 1234: expected 0x")) << d;
  EXPECT_NE(d.find("(word 154: expected "), std::string::npos) << d;
}

}  // namespace
}  // namespace swapchaos::agents::workload
