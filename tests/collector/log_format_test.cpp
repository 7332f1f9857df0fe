// The daemon's own log lines in json: one object per line whatever the message holds, the time
// in UTC, and the fields the message's conventions name.
#include "log_format.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <regex>

namespace zc::collector {
namespace {

Poco::JSON::Object::Ptr formatJson(spdlog::level::level_enum level, std::string_view message) {
  auto f = makeJsonLogFormatter();
  spdlog::details::log_msg msg("zynd-collector", level,
                               spdlog::string_view_t(message.data(), message.size()));
  spdlog::memory_buf_t out;
  f->format(msg, out);
  std::string line(out.data(), out.size());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;  // exactly one line
  return Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
}

TEST(LogFormatTest, JsonLineIsOneObjectWithUtcTimeWhateverTheMessageHolds) {
  const std::string nasty = "quote \" backslash \\ tab \t newline \n nul " + std::string(1, '\0') +
                            " bad \xff utf8 é";
  auto o = formatJson(spdlog::level::warn, nasty);
  EXPECT_EQ(o->getValue<std::string>("level"), "warning");
  EXPECT_EQ(o->getValue<std::string>("logger"), "zynd-collector");
  std::string message = o->getValue<std::string>("message");
  EXPECT_NE(message.find("quote \" backslash \\ tab \t newline \n nul "), std::string::npos);
  EXPECT_NE(message.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD for the bad byte
  EXPECT_TRUE(std::regex_match(o->getValue<std::string>("time"),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  ASSERT_TRUE(o->isObject("fields"));
  EXPECT_EQ(o->getObject("fields")->size(), 0u);
}

TEST(LogFormatTest, FieldsNameThePluginAndTheDeployment) {
  auto o = formatJson(spdlog::level::info, "[runtime.docker] deployment web-1: follow ended");
  auto fields = o->getObject("fields");
  EXPECT_EQ(fields->getValue<std::string>("plugin"), "runtime.docker");
  EXPECT_EQ(fields->getValue<std::string>("deployment"), "web-1");
  EXPECT_EQ(o->getValue<std::string>("message"),
            "[runtime.docker] deployment web-1: follow ended");

  EXPECT_EQ(logFieldsOf("deployment abc_2: [CRASH] exit=3"), "\"deployment\":\"abc_2\"");
  EXPECT_EQ(logFieldsOf("[storage] rocksdb: compaction done"), "\"plugin\":\"storage\"");
  EXPECT_EQ(logFieldsOf("[storage.rocksdb] compaction done"), "\"plugin\":\"storage.rocksdb\"");
  // Not the conventions: no fields.
  EXPECT_EQ(logFieldsOf("listening on http://127.0.0.1:7070"), "");
  EXPECT_EQ(logFieldsOf("deployment has no colon"), "");
  EXPECT_EQ(logFieldsOf("deployment bad id!: text"), "");  // not a valid id
  EXPECT_EQ(logFieldsOf("[not a tag] text"), "");
  EXPECT_EQ(logFieldsOf("[] text"), "");
  EXPECT_EQ(logFieldsOf("[runtime.] text"), "");
  EXPECT_EQ(logFieldsOf("[CRASH] exit=3"), "");  // a system line's marker is not a plugin
}

TEST(LogFormatTest, UnknownFormatIsRefusedWithTheOptionName) {
  Status s = setLogFormat("xml");
  EXPECT_FALSE(s.isOk());
  EXPECT_EQ(s.message(), "--log-format: 'xml' is not text or json");
  EXPECT_TRUE(setLogFormat("text").isOk());
}

}  // namespace
}  // namespace zc::collector
