#ifndef SWAPCHAOS_TESTING_CLI_H_
#define SWAPCHAOS_TESTING_CLI_H_

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "process/subprocess.h"

// Helpers for tests that run the swapchaos command as a user would.
namespace swapchaos::test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Starts `swapchaos ARGS...` (the binary CMake built) with its output in `log`.
inline std::unique_ptr<process::Subprocess> StartCli(const std::vector<std::string>& args,
                                                     const std::string& log) {
  std::vector<std::string> argv = {SWAPCHAOS_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = process::Subprocess::Spawn({argv, log});
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? std::move(*p) : nullptr;
}

// Runs it to the end; returns its exit status (-1 if it did not end in time).
inline int RunCli(const std::vector<std::string>& args, const std::string& log,
                  std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto p = StartCli(args, log);
  if (!p || !p->WaitFor(timeout)) return -1;
  std::string how = p->DescribeExit();
  return how.starts_with("exited with status ") ? std::stoi(how.substr(19)) : -1;
}

// Every network namespace some process is in, by inode.
inline std::set<std::string> NetNamespaces() {
  std::set<std::string> out;
  DIR* proc = opendir("/proc");
  while (dirent* e = readdir(proc)) {
    char buf[64];
    ssize_t n = readlink(("/proc/" + std::string(e->d_name) + "/ns/net").c_str(), buf, sizeof buf);
    if (n > 0) out.insert(std::string(buf, static_cast<size_t>(n)));
  }
  closedir(proc);
  return out;
}

// What process `pid`'s descriptors point at, by number.
inline std::map<int, std::string> OpenFiles(const std::string& pid) {
  std::map<int, std::string> out;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + pid + "/fd", ec)) {
    std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec) out[std::stoi(fd.path().filename().string())] = target;
  }
  return out;
}

// Whether process `pid` holds a file whose path mentions `needle` open
// (nbd-server gets its files that way, and writes its log there).
inline bool HoldsFileMentioning(const std::string& pid, const std::string& needle) {
  for (const auto& [fd, target] : OpenFiles(pid)) {
    if (target.find(needle) != std::string::npos) return true;
  }
  return false;
}

// Command lines of live processes that mention `needle` (a run's directory)
// or hold a file under it open.
inline std::vector<std::string> ProcessesMentioning(const std::string& needle) {
  std::vector<std::string> out;
  DIR* proc = opendir("/proc");
  while (dirent* e = readdir(proc)) {
    std::string cmdline = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
    std::string stat = ReadFile("/proc/" + std::string(e->d_name) + "/stat");
    if (stat.empty() || stat.find(") Z ") != std::string::npos) continue;
    if (cmdline.find(needle) != std::string::npos || HoldsFileMentioning(e->d_name, needle)) {
      for (char& c : cmdline) c = c == '\0' ? ' ' : c;
      out.push_back(cmdline);
    }
  }
  closedir(proc);
  return out;
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_CLI_H_
