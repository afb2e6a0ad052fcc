#ifndef SWAPCHAOS_CONTROLLER_CLI_FLAGS_H_
#define SWAPCHAOS_CONTROLLER_CLI_FLAGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// Strict "--name VALUE" / "--name=VALUE" parsing: a flag the command does not
// know is an error naming it, never silently ignored.
class Flags {
 public:
  // `known` maps each flag name (without "--") to its default value;
  // `switches` are flags without a value ("--slurm"): "true" when given,
  // else "false".
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& known,
                                     const std::set<std::string>& switches = {});

  // The last value given, or the default.
  const std::string& Get(const std::string& name) const { return values_.at(name); }
  // Every value given, in order ("--sbatch A --sbatch B").
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const { return Get(name) == "true"; }
  absl::StatusOr<uint32_t> GetUint(const std::string& name) const;
  // Sizes with an optional K, M, G or T suffix (powers of 1024).
  absl::StatusOr<uint64_t> GetSize(const std::string& name) const;

 private:
  std::map<std::string, std::string> values_;
  std::multimap<std::string, std::string> given_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_CLI_FLAGS_H_
