// Deployment ids and the string forms of the model's enums (zc/model.h).
#include "zc/model.h"

#include <gtest/gtest.h>

#include <string>

namespace zc {
namespace {

TEST(DeploymentIdTest, AcceptsOneToSixtyFourIdCharacters) {
  const std::string good[] = {"a",
                              "Z",
                              "0",
                              "-",
                              "_",
                              "zynd-abc_123",
                              "ABC-def-0123456789",
                              std::string(64, 'x'),
                              std::string(63, 'a') + "-"};
  for (const auto& id : good) {
    EXPECT_TRUE(isValidDeploymentId(id)) << id;
    EXPECT_TRUE(validateDeploymentId(id).isOk()) << id;
  }
}

TEST(DeploymentIdTest, RejectsEverythingElse) {
  const std::string bad[] = {"",
                             ".",
                             "..",
                             "../etc",
                             "a.b",
                             "%2F",
                             "a%2Fb",
                             "/",
                             "a/b",
                             "a\\b",
                             " ",
                             "a b",
                             " a",
                             "a ",
                             "a\tb",
                             "a\n",
                             std::string("a\0b", 3),
                             std::string(1, '\0'),
                             "caf\xc3\xa9",
                             "\xe6\x97\xa5\xe6\x9c\xac",
                             "\xff",
                             "a:b",
                             "a@b",
                             "a+b",
                             std::string(65, 'x')};
  for (const auto& id : bad) {
    EXPECT_FALSE(isValidDeploymentId(id)) << id;
    Status s = validateDeploymentId(id);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << id;
    EXPECT_NE(s.message().find("1-64 characters of [A-Za-z0-9_-]"), std::string::npos)
        << s.message();
  }
}

TEST(DeploymentIdTest, MessageQuotesTheIdPrintably) {
  Status s = validateDeploymentId(std::string("a\0b/\n", 5));
  EXPECT_EQ(s.message(), "deployment id 'a\\x00b/\\x0a' is not 1-64 characters of [A-Za-z0-9_-]");
  EXPECT_EQ(validateDeploymentId("it's").message().find("it's"), std::string::npos);
  // Long input is cut, never echoed whole.
  Status longer = validateDeploymentId(std::string(500, 'y') + "!");
  EXPECT_NE(longer.message().find("..."), std::string::npos);
  EXPECT_LT(longer.message().size(), 200u);
}

TEST(ModelStringsTest, DeploymentStatusRoundTrips) {
  const std::pair<DeploymentStatus, const char*> all[] = {
      {DeploymentStatus::kRunning, "running"},
      {DeploymentStatus::kUnhealthy, "unhealthy"},
      {DeploymentStatus::kCrashed, "crashed"},
      {DeploymentStatus::kStopped, "stopped"}};
  for (const auto& [value, name] : all) {
    EXPECT_EQ(toString(value), name);
    EXPECT_EQ(parseDeploymentStatus(name), value);
  }
  for (const char* bad : {"", "Running", "RUNNING", "run", "running ", "exited"}) {
    EXPECT_EQ(parseDeploymentStatus(bad), std::nullopt) << bad;
  }
}

TEST(ModelStringsTest, LogStreamRoundTrips) {
  const std::pair<LogStream, const char*> all[] = {{LogStream::kStdout, "stdout"},
                                                   {LogStream::kStderr, "stderr"},
                                                   {LogStream::kSystem, "system"}};
  for (const auto& [value, name] : all) {
    EXPECT_EQ(toString(value), name);
    EXPECT_EQ(parseLogStream(name), value);
  }
  for (const char* bad : {"", "STDOUT", "out", "stdin", "1", "system\n"}) {
    EXPECT_EQ(parseLogStream(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace zc
