// Status, Result<T> and the two macros (zc/status.h).
#include "zc/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace zc {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.isOk());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.toString(), "OK");
  EXPECT_EQ(s, Status::ok());
}

TEST(StatusTest, EveryFactoryHasItsCodeAndName) {
  struct Case {
    Status status;
    Status::Code code;
    const char* name;
  };
  const Case cases[] = {
      {Status::invalidArgument("m"), Status::Code::kInvalidArgument, "InvalidArgument"},
      {Status::notFound("m"), Status::Code::kNotFound, "NotFound"},
      {Status::alreadyExists("m"), Status::Code::kAlreadyExists, "AlreadyExists"},
      {Status::failedPrecondition("m"), Status::Code::kFailedPrecondition, "FailedPrecondition"},
      {Status::unavailable("m"), Status::Code::kUnavailable, "Unavailable"},
      {Status::ioError("m"), Status::Code::kIOError, "IOError"},
      {Status::corruption("m"), Status::Code::kCorruption, "Corruption"},
      {Status::timeout("m"), Status::Code::kTimeout, "Timeout"},
      {Status::aborted("m"), Status::Code::kAborted, "Aborted"},
      {Status::internal("m"), Status::Code::kInternal, "Internal"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(c.status.isOk()) << c.name;
    EXPECT_FALSE(static_cast<bool>(c.status)) << c.name;
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(Status::codeName(c.code), c.name);
    EXPECT_EQ(c.status.message(), "m");
    EXPECT_EQ(c.status.toString(), std::string(c.name) + ": m");
    EXPECT_EQ(c.status.isNotFound(), c.code == Status::Code::kNotFound);
  }
  EXPECT_EQ(Status::codeName(Status::Code::kOk), "OK");
  EXPECT_EQ(Status::codeName(static_cast<Status::Code>(999)), "Unknown");
}

TEST(StatusTest, ToStringWithoutMessageIsTheCodeName) {
  EXPECT_EQ(Status::notFound("").toString(), "NotFound");
}

TEST(StatusTest, WithContextPrefixesAndKeepsCode) {
  Status s = Status::notFound("deployment 'x' is unknown").withContext("stop");
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "stop: deployment 'x' is unknown");
  EXPECT_EQ(Status::ok().withContext("stop"), Status::ok());
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(Status::timeout("a"), Status::timeout("a"));
  EXPECT_NE(Status::timeout("a"), Status::timeout("b"));
  EXPECT_NE(Status::timeout("a"), Status::aborted("a"));
}

TEST(ResultTest, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.isOk());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(r.status(), Status::ok());
  EXPECT_EQ(r.valueOr(7), 42);
  *r = 43;
  EXPECT_EQ(r.value(), 43);
}

TEST(ResultTest, HoldsAnError) {
  Result<std::string> r = Status::corruption("bad bytes");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status(), Status::corruption("bad bytes"));
  EXPECT_EQ(r.valueOr("fallback"), "fallback");
}

TEST(ResultTest, ArrowReachesTheValue) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
  const Result<std::string>& c = r;
  EXPECT_EQ(c->front(), 'a');
}

TEST(ResultTest, MoveOnlyValuesMoveOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, OkStatusIsTurnedIntoInternal) {
#ifdef NDEBUG
  Result<int> r = Status::ok();
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kInternal);
#else
  EXPECT_DEATH(
      {
        Result<int> r = Status::ok();
        (void)r;
      },
      "");
#endif
}

Status failIf(bool fail) {
  return fail ? Status::ioError("disk full") : Status::ok();
}

Status twoSteps(bool failFirst, bool failSecond, int* reached) {
  ZC_RETURN_IF_ERROR(failIf(failFirst));
  *reached = 1;
  ZC_RETURN_IF_ERROR(failIf(failSecond));
  *reached = 2;
  return Status::ok();
}

TEST(MacroTest, ReturnIfErrorReturnsTheFirstError) {
  int reached = 0;
  EXPECT_TRUE(twoSteps(false, false, &reached).isOk());
  EXPECT_EQ(reached, 2);
  reached = 0;
  EXPECT_EQ(twoSteps(false, true, &reached), Status::ioError("disk full"));
  EXPECT_EQ(reached, 1);
  reached = 0;
  EXPECT_EQ(twoSteps(true, false, &reached), Status::ioError("disk full"));
  EXPECT_EQ(reached, 0);
}

Result<int> half(int v) {
  if (v % 2 != 0) return Status::invalidArgument(std::to_string(v) + " is odd");
  return v / 2;
}

Result<int> quarter(int v) {
  int h = 0;
  ZC_ASSIGN_OR_RETURN(h, half(v));
  ZC_ASSIGN_OR_RETURN(auto q, half(h));
  return q;
}

Status quarterInto(int v, int* out) {
  ZC_ASSIGN_OR_RETURN(*out, quarter(v));
  return Status::ok();
}

Result<std::unique_ptr<int>> boxed(bool fail) {
  if (fail) return Status::notFound("no box");
  return std::make_unique<int>(9);
}

Result<int> unbox(bool fail) {
  ZC_ASSIGN_OR_RETURN(std::unique_ptr<int> p, boxed(fail));
  return *p;
}

TEST(MacroTest, AssignOrReturnAssignsOrPropagates) {
  EXPECT_EQ(quarter(12).value(), 3);
  EXPECT_EQ(quarter(6).status(), Status::invalidArgument("3 is odd"));
  EXPECT_EQ(quarter(5).status(), Status::invalidArgument("5 is odd"));
  int out = -1;
  EXPECT_TRUE(quarterInto(8, &out).isOk());
  EXPECT_EQ(out, 2);
  out = -1;
  EXPECT_EQ(quarterInto(7, &out), Status::invalidArgument("7 is odd"));
  EXPECT_EQ(out, -1);
  EXPECT_EQ(unbox(false).value(), 9);
  EXPECT_TRUE(unbox(true).status().isNotFound());
}

}  // namespace
}  // namespace zc
