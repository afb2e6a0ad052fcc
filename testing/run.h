#ifndef SWAPCHAOS_TESTING_RUN_H_
#define SWAPCHAOS_TESTING_RUN_H_

#include <memory>
#include <ostream>

#include "absl/status/statusor.h"
#include "controller/run/run.h"
#include "controller/scenario/scenario.h"
#include "testing/shell.h"

// For tests that drive a run's agents directly: a small victim (256 MiB,
// one vCPU, a scenario's default reserve) on the default kernel, results in
// the test's own directory.
namespace swapchaos::test {

inline absl::StatusOr<std::unique_ptr<controller::Run>> StartSmallRun(uint64_t swap_bytes,
                                                                      std::ostream* progress) {
  controller::BootRequest req;
  req.mutable_victim()->set_memory_mib(256);
  req.mutable_victim()->set_cpus(1);
  req.mutable_swap()->set_size_bytes(swap_bytes);
  req.mutable_swap()->set_min_free_kbytes(controller::DefaultMinFreeKbytes(256));
  req.set_telemetry_hz(2);
  req.set_boot_timeout_s(300);
  req.set_out_dir(UniqueTempDir() + "/run");
  controller::BootEnv env;
  env.cache_dir = UniqueTempDir() + "/cache";
  env.agent_path = SWAPCHAOS_AGENT;
  env.progress = progress;
  return controller::Run::Start(req, env);
}

}  // namespace swapchaos::test

#endif  // SWAPCHAOS_TESTING_RUN_H_
