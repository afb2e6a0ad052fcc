#ifndef SWAPCHAOS_CONTROLLER_VM_QMP_H_
#define SWAPCHAOS_CONTROLLER_VM_QMP_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace swapchaos::controller {

// A QEMU Machine Protocol client on a Unix socket: capabilities negotiated,
// one command at a time, asynchronous events skipped.
class QmpClient {
 public:
  static absl::StatusOr<std::unique_ptr<QmpClient>> Connect(const std::string& socket_path,
                                                            std::chrono::milliseconds timeout);
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Sends {"execute": command, "arguments": arguments_json} and returns the
  // "return" reply line; a QMP error becomes FailedPrecondition with its desc.
  absl::StatusOr<std::string> Execute(const std::string& command,
                                      const std::string& arguments_json = "");

 private:
  explicit QmpClient(int fd) : fd_(fd) {}
  absl::StatusOr<std::string> ReadLine();
  const int fd_;
  std::string buffer_;
};

}  // namespace swapchaos::controller

#endif  // SWAPCHAOS_CONTROLLER_VM_QMP_H_
