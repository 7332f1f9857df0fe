#include "json_file_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zc::logfile {
namespace {

constexpr std::string_view kTime = "2026-11-29T16:35:01.025339391Z";
constexpr TimeNs kTs = 1'795'970'101LL * kNanosPerSecond + 25'339'391;

std::string line(std::string_view logJson, std::string_view stream = "stdout") {
  return std::string(R"({"log":")") + std::string(logJson) + R"(","stream":")" +
         std::string(stream) + R"(","time":")" + std::string(kTime) + R"("})";
}

TEST(JsonFileDecoderTest, DecodesTheEnginesLine) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line("hello\\n");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "hello\n");
  EXPECT_EQ(r.stream, LogStream::kStdout);
  EXPECT_EQ(r.ts, kTs);
  l = line("a partial piece", "stderr");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "a partial piece");  // no '\n': a piece of a longer line
  EXPECT_EQ(r.stream, LogStream::kStderr);
}

TEST(JsonFileDecoderTest, ContentWithoutEscapesIsNotCopied) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line("plain text");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_GE(r.content.data(), l.data());
  EXPECT_LT(r.content.data(), l.data() + l.size());
}

TEST(JsonFileDecoderTest, DecodesEveryEscape) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line(R"(q\" b\\ s\/ \b\f\n\r\t \u001b[31m \u003c\u003e\u0026 \u00e9 \u20ac)");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "q\" b\\ s/ \b\f\n\r\t \x1b[31m <>& \xc3\xa9 \xe2\x82\xac");
}

TEST(JsonFileDecoderTest, SurrogatePairsAndLoneSurrogates) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line(R"(\ud83d\ude00)");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "\xf0\x9f\x98\x80");
  l = line(R"(\ud83dx\ude00)");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "\xef\xbf\xbdx\xef\xbf\xbd");
  l = line(R"(\ud83d\u0041)");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "\xef\xbf\xbd" "A");
}

TEST(JsonFileDecoderTest, InvalidUtf8IsKeptAsWritten) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line("bad \xff\xfe bytes \xc3");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "bad \xff\xfe bytes \xc3");
  l = line("esc \\n then \xff");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "esc \n then \xff");
}

TEST(JsonFileDecoderTest, MembersInAnyOrderAndAttrsSkipped) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = std::string(R"( { "time" : ")") + std::string(kTime) +
                  R"(" , "attrs":{"k":"v\"}","n":[1,{"x":null}]}, "stream":"stderr","log":"x\n","n":-1.5e3,"t":true} )";
  ASSERT_TRUE(d.decode(l, &r).isOk()) << d.decode(l, &r).toString();
  EXPECT_EQ(r.content, "x\n");
  EXPECT_EQ(r.stream, LogStream::kStderr);
  EXPECT_EQ(r.ts, kTs);
}

TEST(JsonFileDecoderTest, EscapedQuoteAtTheEndOfTheValue) {
  JsonFileDecoder d;
  LogRecord r;
  std::string l = line(R"(ends with \\)");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "ends with \\");
  l = line(R"(quote \")");
  ASSERT_TRUE(d.decode(l, &r).isOk());
  EXPECT_EQ(r.content, "quote \"");
}

TEST(JsonFileDecoderTest, MalformedLinesAreCorruption) {
  JsonFileDecoder d;
  LogRecord r;
  std::string t(kTime);
  for (const std::string& bad : std::vector<std::string>{std::string(""), std::string("{"), std::string("[]"),
                          std::string(R"({"log":"x","stream":"stdout"})"),
                          R"({"log":"x","stream":"stdin","time":")" + t + R"("})",
                          R"({"log":"x","stream":"stdout","time":"yesterday"})",
                          R"({"log":"x\q","stream":"stdout","time":")" + t + R"("})",
                          R"({"log":"x\u12","stream":"stdout","time":")" + t + R"("})",
                          R"({"log":1,"stream":"stdout","time":")" + t + R"("})",
                          R"({"log":"x","stream":"stdout","time":")" + t + R"("}x)",
                          R"({"log":"x","stream":"stdout","time":")" + t + R"(",})",
                          R"({"log":"x" "stream":"stdout","time":")" + t + R"("})",
                          R"({"log":"x,"stream":"stdout","time":")" + t,
                          R"({,"log":"x","stream":"stdout","time":")" + t + R"("})"}) {
    EXPECT_FALSE(d.decode(bad, &r).isOk()) << bad;
  }
}

}  // namespace
}  // namespace zc::logfile
