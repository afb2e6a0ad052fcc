#include "controller/vm/netns.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "controller/vm/topology.h"
#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

std::string NetDev() {
  std::ifstream in("/proc/thread-self/net/dev");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whether any thread of any process is in the namespace with this inode.
bool NamespaceInUse(ino_t inode) {
  std::string want = absl::StrCat("net:[", inode, "]");
  DIR* proc = opendir("/proc");
  bool found = false;
  while (dirent* e = readdir(proc)) {
    char buf[64];
    std::string link = absl::StrCat("/proc/", e->d_name, "/ns/net");
    ssize_t n = readlink(link.c_str(), buf, sizeof buf);
    if (n > 0 && std::string(buf, static_cast<size_t>(n)) == want) found = true;
  }
  closedir(proc);
  return found;
}

TEST(NetNamespaceTest, RunsInsideAFreshNamespace) {
  auto ns = NetNamespace::Create();
  ASSERT_TRUE(ns.ok()) << ns.status();
  struct stat mine;
  ASSERT_EQ(stat("/proc/thread-self/ns/net", &mine), 0);
  EXPECT_NE(mine.st_ino, (*ns)->inode());
  ino_t inside = 0;
  ASSERT_TRUE((*ns)
                  ->Run([&] {
                    struct stat st;
                    stat("/proc/thread-self/ns/net", &st);
                    inside = st.st_ino;
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(inside, (*ns)->inode());
}

TEST(RunNetworkTest, BridgeTapsAndServerAddressThenNothingLeft) {
  ino_t inode;
  {
    auto net = CreateRunNetwork();
    ASSERT_TRUE(net.ok()) << net.status();
    inode = (*net)->ns->inode();
    std::string devs;
    ASSERT_TRUE((*net)
                    ->ns
                    ->Run([&] {
                      devs = NetDev();
                      return absl::OkStatus();
                    })
                    .ok());
    for (const char* dev : {"br0:", "vic0:", "wa0:", "wb0:", "lo:"}) {
      EXPECT_NE(devs.find(dev), std::string::npos) << dev << " missing:\n" << devs;
    }
    EXPECT_EQ(NetDev().find("vic0:"), std::string::npos) << "tap leaked into the host namespace";
    std::ifstream master("/proc/self/net/dev");  // sanity: readable here
    EXPECT_TRUE(master.good());
  }
  // Only descriptors held it: once they are closed the kernel frees it.
  EXPECT_FALSE(NamespaceInUse(inode));
}

}  // namespace
}  // namespace swapchaos::controller
