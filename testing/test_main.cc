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

void RemoveScratch(const std::string& name) {
  std::error_code ec;
  std::filesystem::remove_all(swapchaos::test::ScratchDir(name), ec);
  if (ec) std::cerr << "could not remove the scratch of " << name << ": " << ec.message() << "\n";
}

class ScratchCleaner : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& t) override {
    if (t.result()->Passed()) RemoveScratch(std::string(t.test_suite_name()) + "." + t.name());
  }
  void OnTestSuiteEnd(const ::testing::TestSuite& s) override {
    if (s.Passed()) RemoveScratch(std::string(s.name()) + ".suite");
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::UnitTest::GetInstance()->listeners().Append(new ScratchCleaner);
  return RUN_ALL_TESTS();
}
