// The .deb that `cpack -G DEB` makes installs a working tool: unpacked into
// an empty root, its swapchaos runs from there and finds its agent, its
// scenarios and the certify suite under that root, not in the source tree
// and not in the working directory.
#include <filesystem>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos {
namespace {
namespace fs = std::filesystem;

TEST(PackageTest, TheDebInstallsAToolThatFindsItsDataUnderItsPrefix) {
  std::string dir = test::UniqueTempDir();
  std::string made = test::ShellOutput("cd " + dir + " && cpack -G DEB --config " +
                                       SWAPCHAOS_BINARY_DIR "/CPackConfig.cmake 2>&1; echo rc=$?");
  ASSERT_NE(made.find("rc=0"), std::string::npos) << made;
  std::string deb = dir + "/swapchaos_" SWAPCHAOS_VERSION "_amd64.deb";
  ASSERT_TRUE(fs::exists(deb)) << made;
  std::string root = dir + "/root";
  ASSERT_EQ(test::ShellOutput("dpkg-deb -x " + deb + " " + root + " 2>&1"), "");
  for (const char* f :
       {"usr/bin/swapchaos", "usr/libexec/swapchaos/swapchaos-agent",
        "usr/share/swapchaos/scenarios/smoke.yaml", "usr/share/swapchaos/scenarios/certify",
        "usr/share/swapchaos/mutants/swap-read-corrupt", "usr/share/doc/swapchaos/README.md",
        "usr/lib/systemd/system/swapchaos.service", "usr/share/man/man1/swapchaos.1.gz",
        "usr/share/bash-completion/completions/swapchaos"}) {
    EXPECT_TRUE(fs::exists(root + "/" + f)) << f;
  }
  EXPECT_TRUE(test::ShellOutput("gzip -dc " + root + "/usr/share/man/man1/swapchaos.1.gz")
                  .starts_with(".TH SWAPCHAOS 1 "));
  std::string depends = test::ShellOutput("dpkg-deb -f " + deb + " Depends");
  for (const char* d : {"qemu-system-x86", "nbd-server", "libgrpc++1.51", "libnl-route-3-200"}) {
    EXPECT_NE(depends.find(d), std::string::npos) << depends;
  }

  // From an empty working directory, as an installed tool runs.
  fs::create_directories(dir + "/cwd");
  std::string swapchaos = "cd " + dir + "/cwd && " + root + "/usr/bin/swapchaos ";
  std::string help = test::ShellOutput(swapchaos + "certify --help 2>&1; echo rc=$?");
  EXPECT_NE(help.find("usage: swapchaos certify"), std::string::npos) << help;
  EXPECT_NE(help.find("rc=0"), std::string::npos) << help;
  std::string check = test::ShellOutput(swapchaos + "check " + root +
                                        "/usr/share/swapchaos/scenarios/*.yaml " + root +
                                        "/usr/share/swapchaos/scenarios/certify/*.yaml 2>&1; "
                                        "echo rc=$?");
  EXPECT_NE(check.find("rc=0"), std::string::npos) << check;
  // The default suite is the installed one: certify says what it certifies
  // against before it opens the store (here, a server that is not there,
  // so nothing runs).
  std::string certify = test::ShellOutput(swapchaos + "certify --kernel default --seeds 1 --out " +
                                          dir + "/cert --store 'postgresql:///x?host=" + dir +
                                          "/cwd&connect_timeout=2' 2>&1; echo rc=$?");
  EXPECT_NE(certify.find("against " + root + "/usr/share/swapchaos/scenarios/certify: "),
            std::string::npos)
      << certify;
  EXPECT_NE(certify.find("rc=3"), std::string::npos) << certify;
}

}  // namespace
}  // namespace swapchaos
