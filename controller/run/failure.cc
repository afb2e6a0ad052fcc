#include "controller/run/failure.h"

namespace swapchaos::controller {
namespace {
constexpr char kRecordUrl[] = "type.googleapis.com/swapchaos.controller.RunMeta";
}  // namespace

absl::Status KernelFailure(const RunMeta& record) {
  absl::Status s = absl::AbortedError(record.outcome());
  s.SetPayload(kRecordUrl, absl::Cord(record.SerializeAsString()));
  return s;
}

std::optional<RunMeta> KernelFailureRecord(const absl::Status& s) {
  auto payload = s.GetPayload(kRecordUrl);
  if (!payload) return std::nullopt;
  RunMeta record;
  if (!record.ParseFromString(std::string(*payload))) return std::nullopt;
  return record;
}

FailureClass ClassOf(const absl::Status& s) {
  if (KernelFailureRecord(s)) return FailureClass::kKernel;
  if (absl::IsInvalidArgument(s) || absl::IsNotFound(s)) return FailureClass::kBadInput;
  return FailureClass::kInfrastructure;
}

int ExitCode(FailureClass c) {
  switch (c) {
    case FailureClass::kKernel:
      return 1;
    case FailureClass::kBadInput:
      return 2;
    case FailureClass::kInfrastructure:
      return 3;
  }
  return 3;
}

std::string_view ClassName(FailureClass c) {
  switch (c) {
    case FailureClass::kKernel:
      return "kernel";
    case FailureClass::kBadInput:
      return "bad input";
    case FailureClass::kInfrastructure:
      return "infrastructure";
  }
  return "infrastructure";
}

}  // namespace swapchaos::controller
