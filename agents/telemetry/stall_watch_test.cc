#include "agents/telemetry/stall_watch.h"

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace swapchaos::agents::telemetry {
namespace {

TEST(StallWatchTest, SaysWhatIsStuckWhereAndWhenItWentOn) {
  std::mutex mu;
  std::vector<std::string> lines;
  {
    StallWatch watch("test", std::chrono::milliseconds(100), [&](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    });
    watch.Enter("quick");
    watch.Leave();
    watch.Enter("sleeping");
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    watch.Enter("the next step");
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    watch.Leave();
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(lines.size(), 2u) << (lines.empty() ? "" : lines[0]);
  EXPECT_EQ(lines[0].rfind("swapchaos-agent: test: stuck ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find(" ms sleeping (thread "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("TCP: inuse"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("swapchaos-agent: test: sleeping went on within 0.", 0), 0u) << lines[1];
}

}  // namespace
}  // namespace swapchaos::agents::telemetry
