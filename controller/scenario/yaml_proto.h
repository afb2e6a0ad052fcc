#ifndef SWAPCHAOS_CONTROLLER_SCENARIO_YAML_PROTO_H_
#define SWAPCHAOS_CONTROLLER_SCENARIO_YAML_PROTO_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace swapchaos::controller {

// Where each field of a loaded message was written: "faults[1].for_s" ->
// "scenarios/x.yaml:12:5". Later checks use it to point at the line.
class SourceMap {
 public:
  explicit SourceMap(std::string file) : file_(std::move(file)) {}
  // Keeps the first place given for a path: a field's key, not its value.
  void Add(const std::string& path, int line, int column);
  // "file:line:col: path: what": where the path is written, else where its
  // nearest written parent is (the document's start for a top-level field);
  // "file: path: what" only for text that was never loaded.
  std::string Where(const std::string& path) const;
  absl::Status Error(const std::string& path, const std::string& what) const;
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, std::string> at_;
};

// The text of an input file (`what`: "scenario", "campaign"): a regular file
// of at most kMaxInputBytes. A FIFO would hang the read and /dev/zero would
// exhaust memory; both are refused by name. NotFound if it does not exist,
// InvalidArgument otherwise.
inline constexpr int64_t kMaxInputBytes = 1 << 20;
absl::StatusOr<std::string> ReadInputFile(const std::string& path, const std::string& what);

// Fills `msg` from YAML text, strictly: every key must be a field of the
// message (unknown and repeated keys are errors), scalars must parse as the
// field's type (whole numbers in range, a double optionally as "N%"), a
// oneof takes one member. Every error is InvalidArgument naming
// file:line:column and the field's path.
absl::Status YamlToProto(const std::string& yaml_text, google::protobuf::Message* msg,
                         SourceMap* where);

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_SCENARIO_YAML_PROTO_H_
