// The main of every test binary: gtest's, and a passing test's scratch
// directory removed once it ends (a failed or skipped one's stays to be
// looked at), so repeated test runs do not fill the disk with guest images.
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace {

void RemoveScratch(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) std::cerr << "could not remove " << dir << ": " << ec.message() << "\n";
}

class ScratchCleaner : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& t) override {
    if (t.result()->Passed())
      RemoveScratch(swapchaos::test::ScratchDir(t.test_suite_name(), t.name()));
  }
  void OnTestSuiteEnd(const ::testing::TestSuite& s) override {
    if (s.Passed()) RemoveScratch(swapchaos::test::ScratchDir(s.name(), ""));
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new ScratchCleaner);
  return RUN_ALL_TESTS();
}
