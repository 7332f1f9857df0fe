// The pure pieces: JSON/UTF-8 sanitising and the strict query parsers.
#include <gtest/gtest.h>

#include <random>

#include <cmath>
#include <limits>

#include "http_test_client.h"
#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"

namespace {

using namespace zc::exporters;

std::string jsonQuoted(std::string_view s) {
  std::string out;
  appendJsonString(out, s);
  return out;
}

TEST(JsonStringTest, EscapesControlCharactersQuotesAndBackslashes) {
  EXPECT_EQ(jsonQuoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(jsonQuoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(jsonQuoted(std::string("\x00\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(jsonQuoted("\xE2\x80\xA8\xE2\x80\xA9"), R"("\u2028\u2029")");
}

TEST(JsonStringTest, KeepsValidUtf8) {
  std::string s = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(jsonQuoted(s), "\"" + s + "\"");
}

struct Utf8Case {
  const char* name;
  std::string in;
  std::string out;
};

class Utf8SanitiseTest : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(Utf8SanitiseTest, ReplacesEachMaximalInvalidSubpartWithOneReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  std::string expected = GetParam().out;
  size_t pos;
  while ((pos = expected.find('?')) != std::string::npos) expected.replace(pos, 1, r);
  std::string got = sanitizeUtf8(GetParam().in);
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(zc::testing::isValidUtf8(got));
  EXPECT_TRUE(zc::testing::isValidUtf8(jsonQuoted(GetParam().in)));
  // Escaping works on runs of plain ASCII and on what lies between them; the cut between them
  // must not change what invalid bytes become.
  EXPECT_EQ(jsonQuoted(GetParam().in), jsonQuoted(got));
}

TEST(JsonStringTest, RandomMixturesEscapeLikeTheirSanitisedForm) {
  const std::string alphabet[] = {"a", " ", "\"", "\\", "\n", std::string(1, '\0'), "\x7f", "\xC3",
                                  "\xA9", "\xE2", "\x80", "\xA8", "\xF0", "\x9F", "\xFF", "~"};
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string in;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) in += alphabet[rng() % std::size(alphabet)];
    std::string quoted = jsonQuoted(in);
    ASSERT_TRUE(zc::testing::isValidUtf8(quoted)) << i;
    ASSERT_EQ(quoted, jsonQuoted(sanitizeUtf8(in))) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Utf8SanitiseTest,
                         ::testing::Values(Utf8Case{"StrayContinuation", "a\x80z", "a?z"},
                                           Utf8Case{"LoneLeadAtEnd", "ab\xC3", "ab?"},
                                           Utf8Case{"TruncatedThree", "\xE2\x82z", "?z"},
                                           Utf8Case{"OverlongTwo", "\xC0\xAF", "??"},
                                           Utf8Case{"OverlongThree", "\xE0\x80\xAF", "???"},
                                           Utf8Case{"Surrogate", "\xED\xA0\x80", "???"},
                                           Utf8Case{"AboveMax", "\xF4\x90\x80\x80", "????"},
                                           Utf8Case{"Ff", "\xFF\xFEok", "??ok"},
                                           Utf8Case{"TruncatedFourThenAscii", "\xF0\x9F\x98x",
                                                    "?x"},
                                           Utf8Case{"Mixed", "ok\xC3\xA9\x80\xC3", "ok\xC3\xA9??"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(JsonWriterTest, WritesNestedStructuresWithCommas) {
  JsonWriter w;
  w.beginObject().key("a").integer(-1).key("b").beginArray().boolean(true).null().number(1.5);
  w.endArray().key("c").stringOrNull("").key("d").unsignedInteger(18446744073709551615ull);
  w.endObject();
  EXPECT_EQ(w.text(), R"({"a":-1,"b":[true,null,1.5],"c":null,"d":18446744073709551615})");
}

TEST(JsonWriterTest, NonFiniteNumbersAreNull) {
  JsonWriter w;
  w.beginArray().number(std::numeric_limits<double>::infinity()).number(std::nan("")).endArray();
  EXPECT_EQ(w.text(), "[null,null]");
}

TEST(QueryTest, DefaultsAndValues) {
  auto q = parseLogQuery("");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->since, 0u);
  EXPECT_EQ(q->limit, 500u);
  q = parseLogQuery("since=42&limit=5000");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->since, 42u);
  EXPECT_EQ(q->limit, 5000u);
  q = parseLogQuery("after=7&_=123&&limit=1");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->since, 7u);
  EXPECT_EQ(q->limit, 1u);
  q = parseLogQuery("since=18446744073709551615&after=18446744073709551615");
  ASSERT_TRUE(q.isOk());
  EXPECT_EQ(q->since, 18446744073709551615ull);
}

TEST(QueryTest, RejectsMalformedValues) {
  for (const char* bad : {"since=-1",        "since=abc",       "since=",
                          "since",           "since=1.5",       "since=+1",
                          "since= 1",        "since=0x10",      "since=18446744073709551616",
                          "since=1&since=1", "since=1&after=2", "after=1&after=1",
                          "limit=0",         "limit=5001",      "limit=99999999999999999999",
                          "limit=-1",        "limit=1&limit=1", "since=%zz",
                          "since=%1",        "since=%00",       "=5"}) {
    EXPECT_FALSE(parseLogQuery(bad).isOk()) << bad;
  }
}

TEST(QueryTest, RejectsTooManyParameters) {
  std::string q;
  for (int i = 0; i < 40; ++i) q += "p" + std::to_string(i) + "=1&";
  EXPECT_FALSE(parseLogQuery(q).isOk());
}

TEST(QueryTest, MetricsRangeDefaultsToTheLastThreeDays) {
  const zc::TimeNs now = 1'800'000'000'000'000'000;
  auto r = parseMetricsQuery("", now);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->to, now);
  EXPECT_EQ(r->from, now - kDefaultMetricsWindowNs);
  r = parseMetricsQuery("from=1700000000000&to=2026-01-02T03:04:05Z", now);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->from, 1'700'000'000'000'000'000);
  r = parseMetricsQuery("from=2026-01-02T03:04:05+01:00", now);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  for (const char* bad : {"from=yesterday", "to=99999999999999999999", "from=2&to=1",
                          "from=2026-13-01T00:00:00Z", "from=1&from=1", "to=-5"}) {
    EXPECT_FALSE(parseMetricsQuery(bad, now).isOk()) << bad;
  }
}

TEST(QueryTest, LastEventId) {
  EXPECT_EQ(parseLastEventId(" 12 ").valueOr(0), 12u);
  EXPECT_FALSE(parseLastEventId("").isOk());
  EXPECT_FALSE(parseLastEventId("-1").isOk());
  EXPECT_FALSE(parseLastEventId("1a").isOk());
}

}  // namespace
