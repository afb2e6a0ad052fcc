#include "controller/run/failure.h"

#include "gtest/gtest.h"

namespace swapchaos::controller {
namespace {

TEST(FailureTest, AKernelFailureCarriesItsRecord) {
  RunMeta record;
  record.set_kernel_failure("kernel did not boot: kernel panic: Fatal exception");
  record.set_outcome("kernel vmlinuz stopped before reaching init");
  record.mutable_kernel()->set_release("6.1.0-test");
  absl::Status s = KernelFailure(record);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "kernel vmlinuz stopped before reaching init");
  EXPECT_EQ(ClassOf(s), FailureClass::kKernel);
  auto back = KernelFailureRecord(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->kernel_failure(), record.kernel_failure());
  EXPECT_EQ(back->kernel().release(), "6.1.0-test");
  EXPECT_EQ(ExitCode(ClassOf(s)), 1);
}

TEST(FailureTest, EveryOtherFailureIsTheUsersOrOurs) {
  EXPECT_EQ(ClassOf(absl::InvalidArgumentError("x")), FailureClass::kBadInput);
  EXPECT_EQ(ClassOf(absl::NotFoundError("x")), FailureClass::kBadInput);
  EXPECT_EQ(ClassOf(absl::UnavailableError("QEMU exited")), FailureClass::kInfrastructure);
  // ABORTED alone is no kernel failure: only one carrying a record is.
  EXPECT_EQ(ClassOf(absl::AbortedError("x")), FailureClass::kInfrastructure);
  EXPECT_FALSE(KernelFailureRecord(absl::AbortedError("x")).has_value());
  EXPECT_EQ(ExitCode(FailureClass::kBadInput), 2);
  EXPECT_EQ(ExitCode(FailureClass::kInfrastructure), 3);
  EXPECT_EQ(ClassName(FailureClass::kInfrastructure), "infrastructure");
}

}  // namespace
}  // namespace swapchaos::controller
