// guarded() (zc/plugin/guard.h): what a plugin method returns when its body throws.
#include "zc/plugin/guard.h"

#include <gtest/gtest.h>

#include <new>
#include <stdexcept>
#include <string>

namespace zc::plugin {
namespace {

TEST(GuardTest, PassesAStatusThrough) {
  EXPECT_TRUE(guarded("test plugin", "op", [] { return Status::ok(); }).isOk());
  Status s = guarded("test plugin", "op", [] { return Status::notFound("gone"); });
  EXPECT_EQ(s, Status::notFound("gone"));
}

TEST(GuardTest, PassesAResultThrough) {
  Result<int> r = guarded("test plugin", "op", []() -> Result<int> { return 42; });
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r.value(), 42);
}

TEST(GuardTest, ExceptionBecomesInternalNamingThePluginAndTheOperation) {
  Status s = guarded("test plugin", "appendLogs",
                     []() -> Status { throw std::runtime_error("disk on fire"); });
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_EQ(s.message(), "test plugin: appendLogs: disk on fire");
}

TEST(GuardTest, BadAllocInAResultMethodBecomesInternal) {
  Result<std::string> r =
      guarded("test plugin", "readLogs", []() -> Result<std::string> { throw std::bad_alloc(); });
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
  EXPECT_EQ(r.status().message(), std::string("test plugin: readLogs: ") + std::bad_alloc().what());
}

TEST(GuardTest, NonStandardExceptionBecomesInternal) {
  Status s = guarded("test plugin", "open", []() -> Status { throw 7; });
  EXPECT_EQ(s.code(), Status::Code::kInternal);
  EXPECT_EQ(s.message(), "test plugin: open: unknown exception");
}

TEST(GuardTest, ExceptionStatusFormatsTheMessage) {
  EXPECT_EQ(exceptionStatus("a", "b", "c"), Status::internal("a: b: c"));
}

}  // namespace
}  // namespace zc::plugin
