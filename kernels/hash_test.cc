#include "kernels/hash.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::kernels {
namespace {

TEST(Sha256Test, KnownVectors) {
  Sha256 empty;
  EXPECT_EQ(empty.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  EXPECT_EQ(abc.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, FileMatchesBytes) {
  std::string path = test::UniqueTempDir() + "/hash_test.bin";
  std::ofstream(path) << "abc";
  auto digest = Sha256OfFile(path);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::remove(path.c_str());
}

TEST(Sha256Test, MissingFileNamesPath) {
  auto digest = Sha256OfFile("/nonexistent/swapchaos");
  ASSERT_FALSE(digest.ok());
  EXPECT_NE(digest.status().message().find("/nonexistent/swapchaos"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::kernels
