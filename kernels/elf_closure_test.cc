#include "kernels/elf_closure.h"

#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::kernels {
namespace {

// What ld.so itself reports for `binary`, via ldd, reduced to canonical paths.
std::set<std::string> LddClosure(const std::string& binary) {
  std::set<std::string> out;
  std::istringstream lines(test::ShellOutput("ldd " + binary));
  std::string s;
  while (std::getline(lines, s)) {
    size_t slash = s.find('/');
    if (slash == std::string::npos) continue;  // linux-vdso has no file
    std::string path = s.substr(slash, s.find(' ', slash) - slash);
    out.insert(std::filesystem::canonical(path).string());
  }
  return out;
}

std::set<std::string> Canonical(const std::vector<std::string>& paths) {
  std::set<std::string> out;
  for (const auto& p : paths) out.insert(std::filesystem::canonical(p).string());
  return out;
}

TEST(ElfClosureTest, MatchesTheDynamicLoaderForThisTest) {
  // This test binary links gtest, abseil and libcrypto: a real, deep closure.
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  auto closure = ResolveLibraryClosure(self);
  ASSERT_TRUE(closure.ok()) << closure.status();
  std::set<std::string> expected = LddClosure(self);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(Canonical(*closure), expected);
}

TEST(ElfClosureTest, MatchesTheDynamicLoaderForSystemBinary) {
  auto closure = ResolveLibraryClosure("/usr/bin/qemu-system-x86_64");
  ASSERT_TRUE(closure.ok()) << closure.status();
  EXPECT_EQ(Canonical(*closure), LddClosure("/usr/bin/qemu-system-x86_64"));
}

TEST(ElfClosureTest, StaticBinaryHasEmptyClosure) {
  auto closure = ResolveLibraryClosure("/bin/busybox");
  ASSERT_TRUE(closure.ok()) << closure.status();
  EXPECT_TRUE(closure->empty());
}

TEST(ElfClosureTest, NonElfIsRejectedByName) {
  std::string path = test::UniqueTempDir() + "/not_elf";
  FILE* f = fopen(path.c_str(), "w");
  fputs("#!/bin/sh\n", f);
  fclose(f);
  auto closure = ResolveLibraryClosure(path);
  ASSERT_FALSE(closure.ok());
  EXPECT_NE(closure.status().message().find(path), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::kernels
