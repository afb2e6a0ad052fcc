#ifndef SWAPCHAOS_TESTING_SHELL_H_
#define SWAPCHAOS_TESTING_SHELL_H_

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace swapchaos::test {

// Standard output of `sh -c cmd`: tests compare with reference tools
// (ldd, GNU cpio, blkid) rather than with our own idea of the answer.
inline std::string ShellOutput(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  std::array<char, 4096> buf;
  while (p && fgets(buf.data(), buf.size(), p.get())) out += buf.data();
  return out;
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_SHELL_H_
