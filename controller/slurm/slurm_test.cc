#include "controller/slurm/slurm.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "testing/shell.h"

namespace swapchaos::controller {
namespace {

WorkerCommand Worker() {
  return {.swapchaos = "/opt/swap chaos/bin/swapchaos",
          .store_url = "postgresql://db.example/swapchaos?user=o'brien",
          .campaign = 7,
          .runs_dir = "/shared/runs/c",
          .cache_dir = "/var/cache/swapchaos",
          .agent = "/opt/swap chaos/bin/swapchaos-agent",
          .lease_s = 45,
          .memory_mib = 1536};
}

TEST(SlurmTest, JobScriptAsksForWhatARunTakesAndRunsOneWorkerPerTask) {
  std::string s = SlurmJobScript(
      {.workers = 12, .partition = "kvmless", .sbatch_args = {"--time=2:00:00"}}, Worker());
  for (const char* line :
       {"#!/bin/sh\n", "#SBATCH --job-name=swapchaos-7\n", "#SBATCH --array=1-12\n",
        "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=1536M\n",
        "#SBATCH --output=/shared/runs/c/slurm-%A_%a.out\n", "#SBATCH --partition=kvmless\n",
        "#SBATCH --time=2:00:00\n"}) {
    EXPECT_NE(s.find(line), std::string::npos) << line << " in\n" << s;
  }
  // The worker line is one command however the paths are spelled: sh
  // itself says which words it sees.
  std::string dir = test::UniqueTempDir();
  std::string exec_line = s.substr(s.find("exec "));
  std::ofstream(dir + "/words.sh") << "printf '%s\\n' " << exec_line.substr(5);
  std::string words = test::ShellOutput("sh " + dir + "/words.sh");
  EXPECT_EQ(words,
            "/opt/swap chaos/bin/swapchaos\nworker\n--store\n"
            "postgresql://db.example/swapchaos?user=o'brien\n--campaign\n7\n--runs\n"
            "/shared/runs/c\n--lease\n45\n--jobs\n1\n--cache\n/var/cache/swapchaos\n--agent\n"
            "/opt/swap chaos/bin/swapchaos-agent\n");
  // Every #SBATCH line comes before the first command, or sbatch ignores it.
  EXPECT_LT(s.rfind("#SBATCH"), s.find("exec "));
}

TEST(SlurmTest, NoPartitionLineWithoutAPartition) {
  std::string s = SlurmJobScript({.workers = 1}, Worker());
  EXPECT_EQ(s.find("--partition"), std::string::npos);
}

}  // namespace
}  // namespace swapchaos::controller
