#ifndef SWAPCHAOS_FAULTS_SYSCTL_H_
#define SWAPCHAOS_FAULTS_SYSCTL_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::faults {

// Memory-management sysctls as faults (vm.min_free_kbytes and its kin):
// Set remembers the value it first found, Restore puts that back, so any
// number of Sets is undone by one Restore. Only vm.* names, so a scenario
// cannot write anywhere else under /proc/sys. Thread-safe.
class VmSysctls {
 public:
  explicit VmSysctls(std::string proc_sys = "/proc/sys") : root_(std::move(proc_sys)) {}

  struct State {
    std::string value;     // read back after the call
    std::string original;  // before the first Set; empty if never set
  };
  absl::StatusOr<State> Set(const std::string& name, const std::string& value);
  absl::StatusOr<State> Restore(const std::string& name);
  // The run's starting value, written before any fault: not a fault, so
  // nothing is remembered and a later Restore comes back to this value.
  absl::StatusOr<std::string> SetBaseline(const std::string& name, const std::string& value);
  absl::StatusOr<std::string> Read(const std::string& name) const;

 private:
  absl::StatusOr<std::string> PathOf(const std::string& name) const;
  absl::StatusOr<std::string> Write(const std::string& name, const std::string& value);
  const std::string root_;
  std::mutex mu_;
  std::map<std::string, std::string> original_;  // guarded by mu_
};

}  // namespace swapchaos::faults

#endif  // SWAPCHAOS_FAULTS_SYSCTL_H_
