// RFC 3339 formatting and parsing, and operator durations (zc/model.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "zc/model.h"

namespace zc {
namespace {

// 2026-11-28T00:29:42Z
constexpr TimeNs kBase = 1'795'825'782LL * kNanosPerSecond;

TEST(Rfc3339FormatTest, NanoIsFixedWidth) {
  EXPECT_EQ(formatRfc3339Nano(kBase + 123'456'789), "2026-11-28T00:29:42.123456789Z");
  EXPECT_EQ(formatRfc3339Nano(kBase), "2026-11-28T00:29:42.000000000Z");
  EXPECT_EQ(formatRfc3339Nano(kBase + 1), "2026-11-28T00:29:42.000000001Z");
  EXPECT_EQ(formatRfc3339Nano(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(formatRfc3339Nano(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(formatRfc3339Nano(std::numeric_limits<int64_t>::max()),
            "2262-04-11T23:47:16.854775807Z");
}

TEST(Rfc3339FormatTest, MillisTruncates) {
  EXPECT_EQ(formatRfc3339Millis(kBase + 123'456'789), "2026-11-28T00:29:42.123Z");
  EXPECT_EQ(formatRfc3339Millis(kBase + 999'999'999), "2026-11-28T00:29:42.999Z");
  EXPECT_EQ(formatRfc3339Millis(kBase), "2026-11-28T00:29:42.000Z");
  EXPECT_EQ(formatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
}

// The C library's calendar as the reference: every second of the range the type holds (both
// ends, leap days, century years) formats the same, and parses back to the same instant.
TEST(Rfc3339FormatTest, AgreesWithTheCLibraryCalendarAndRoundTrips) {
  auto reference = [](TimeNs t) {
    int64_t secs = t / kNanosPerSecond, nanos = t % kNanosPerSecond;
    if (nanos < 0) nanos += kNanosPerSecond, secs -= 1;
    time_t tt = static_cast<time_t>(secs);
    tm parts{};
    gmtime_r(&tt, &parts);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", parts.tm_year + 1900,
                  parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                  static_cast<long long>(nanos));
    return std::string(buf);
  };
  std::vector<TimeNs> times = {std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max(),
                               951'782'400LL * kNanosPerSecond,      // 2000-02-29
                               4'107'542'400LL * kNanosPerSecond,    // 2100-03-01
                               -2'203'891'200LL * kNanosPerSecond};  // 1900-03-01
  std::mt19937_64 rng(20261130);
  for (int i = 0; i < 20000; ++i) times.push_back(static_cast<TimeNs>(rng()));
  for (TimeNs t : times) {
    ASSERT_EQ(formatRfc3339Nano(t), reference(t)) << t;
    auto back = parseRfc3339(formatRfc3339Nano(t));
    ASSERT_TRUE(back.isOk()) << formatRfc3339Nano(t);
    EXPECT_EQ(back.value(), t);
  }
}

TEST(Rfc3339ParseTest, AcceptsFractionsOfZeroToNineDigits) {
  const std::pair<const char*, int64_t> cases[] = {
      {"2026-11-28T00:29:42Z", 0},
      {"2026-11-28T00:29:42.1Z", 100'000'000},
      {"2026-11-28T00:29:42.12Z", 120'000'000},
      {"2026-11-28T00:29:42.123Z", 123'000'000},
      {"2026-11-28T00:29:42.1234Z", 123'400'000},
      {"2026-11-28T00:29:42.12345Z", 123'450'000},
      {"2026-11-28T00:29:42.123456Z", 123'456'000},
      {"2026-11-28T00:29:42.1234567Z", 123'456'700},
      {"2026-11-28T00:29:42.12345678Z", 123'456'780},
      {"2026-11-28T00:29:42.123456789Z", 123'456'789},
      {"2026-11-28T00:29:42.000000001Z", 1},
      {"2026-11-28T00:29:42.0Z", 0},
  };
  for (const auto& [text, nanos] : cases) {
    auto t = parseRfc3339(text);
    ASSERT_TRUE(t.isOk()) << text << ": " << t.status().toString();
    EXPECT_EQ(*t, kBase + nanos) << text;
  }
}

TEST(Rfc3339ParseTest, AcceptsOffsetsAndLowercase) {
  const char* same[] = {"2026-11-28T00:29:42+00:00", "2026-11-28T00:29:42-00:00",
                        "2026-11-28T01:29:42+01:00", "2026-11-27T19:29:42-05:00",
                        "2026-11-28T05:59:42+05:30", "2026-11-27T23:29:42.000-01:00",
                        "2026-11-28t00:29:42z",      "2026-11-28 00:29:42Z"};
  for (const char* text : same) {
    auto t = parseRfc3339(text);
    ASSERT_TRUE(t.isOk()) << text << ": " << t.status().toString();
    EXPECT_EQ(*t, kBase) << text;
  }
  auto withFraction = parseRfc3339("2026-11-28T02:29:42.5+02:00");
  ASSERT_TRUE(withFraction.isOk());
  EXPECT_EQ(*withFraction, kBase + 500'000'000);
}

TEST(Rfc3339ParseTest, LeapSecondIsTheNextDaysFirstSecondAndOnlyAtTheEndOfADay) {
  auto leap = parseRfc3339("2016-12-31T23:59:60Z");
  ASSERT_TRUE(leap.isOk()) << leap.status().toString();
  EXPECT_EQ(*leap, parseRfc3339("2017-01-01T00:00:00Z").value());
  EXPECT_FALSE(parseRfc3339("2026-11-28T00:29:60Z").isOk());
}

TEST(Rfc3339ParseTest, AcceptsRealCalendarDates) {
  EXPECT_TRUE(parseRfc3339("2024-02-29T12:00:00Z").isOk());  // leap year
  EXPECT_EQ(parseRfc3339("2024-02-29T12:00:00Z").value(), 1'709'208'000LL * kNanosPerSecond);
  EXPECT_TRUE(parseRfc3339("2000-02-29T00:00:00Z").isOk());  // divisible by 400
  EXPECT_TRUE(parseRfc3339("2026-12-31T23:59:59Z").isOk());
  EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59Z").value(), -kNanosPerSecond);
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:00Z").value(), 0);
}

TEST(Rfc3339ParseTest, RejectsAnythingElse) {
  const char* bad[] = {
      "",
      "now",
      "garbage-garbage-garbage",
      "2026-11-28",
      "2026-11-28T00:29",
      "2026-11-28T00:29:42",              // no zone
      "2026-11-28T00:29:42.123",          // no zone
      "2026-11-28T00:29:42.1234567891Z",  // 10 fraction digits
      "2026-11-28T00:29:42.Z",            // a dot without digits
      "2026-11-28T00:29:42,5Z",
      "2026-02-30T00:00:00Z",  // Feb 30
      "2025-02-29T00:00:00Z",  // not a leap year
      "1900-02-29T00:00:00Z",  // not a leap year either
      "2026-04-31T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-00-01T00:00:00Z",
      "2026-11-00T00:00:00Z",
      "2026-11-32T00:00:00Z",
      "2026-11-28T24:00:00Z",
      "2026-11-28T00:60:00Z",
      "2026-11-28T00:29:61Z",
      "2026-11-28X00:29:42Z",
      "2026/11/28T00:29:42Z",
      "26-11-28T00:29:42Z",
      "+2026-11-28T00:29:42Z",
      "2026-11-28T00:29:42 Z",
      "2026-11-28T00:29:42ZZ",
      "2026-11-28T00:29:42Z ",
      " 2026-11-28T00:29:42Z",
      "2026-11-28T00:29:42+0100",
      "2026-11-28T00:29:42+01",
      "2026-11-28T00:29:42+1:00",
      "2026-11-28T00:29:42+01:00:00",
      "2026-11-28T00:29:42+24:00",
      "2026-11-28T00:29:42+01:60",
      "2026-11-28T00:29:42UTC",
      "2026-11-28T00:29:4\xef\xbc\x92Z",  // a full-width digit
  };
  for (const char* text : bad) {
    auto t = parseRfc3339(text);
    EXPECT_FALSE(t.isOk()) << "accepted '" << text << "' as " << t.valueOr(0);
    if (!t.isOk()) {
      EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
      EXPECT_NE(t.status().message().find("is not RFC 3339"), std::string::npos);
    }
  }
  std::string withNul("2026-11-28T00:29:42Z\0", 21);
  EXPECT_FALSE(parseRfc3339(withNul).isOk());
}

TEST(Rfc3339ParseTest, FormatThenParseRoundTrips) {
  const TimeNs values[] = {0,
                           1,
                           -1,
                           kBase,
                           kBase + 123'456'789,
                           kBase + 999'999'999,
                           -1'234'567'891'234'567'891LL,
                           951'782'400LL * kNanosPerSecond + 7,  // 2000-02-29
                           std::numeric_limits<int64_t>::max()};
  for (TimeNs t : values) {
    auto back = parseRfc3339(formatRfc3339Nano(t));
    ASSERT_TRUE(back.isOk()) << formatRfc3339Nano(t);
    EXPECT_EQ(*back, t) << formatRfc3339Nano(t);
    auto millis = parseRfc3339(formatRfc3339Millis(t));
    ASSERT_TRUE(millis.isOk()) << formatRfc3339Millis(t);
    EXPECT_EQ(formatRfc3339Millis(*millis), formatRfc3339Millis(t));
  }
}

// BUG in core/src/model.cpp (see the report): times outside the int64 nanosecond range
// (before 1677-09-21T00:12:43.145224192Z or after 2262-04-11T23:47:16.854775807Z) overflow
// `(secs - offsetSecs) * kNanosPerSecond + nanos` (undefined behaviour) and come back as some
// unrelated time instead of being rejected. Enable once parseRfc3339 checks the range.
TEST(Rfc3339ParseTest, RejectsTimesOutsideTheNanosecondRange) {
  for (const char* text :
       {"2262-04-11T23:47:16.854775808Z", "2263-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "1677-09-21T00:12:43.145224191Z", "1600-01-01T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    auto t = parseRfc3339(text);
    EXPECT_FALSE(t.isOk()) << "accepted '" << text << "' as " << formatRfc3339Nano(t.valueOr(0));
  }
  EXPECT_EQ(parseRfc3339("1677-09-21T00:12:43.145224192Z").valueOr(0),
            std::numeric_limits<int64_t>::min());
}

TEST(DurationTest, AcceptsUnitsAndBareSeconds) {
  const std::pair<const char*, int64_t> cases[] = {
      {"90s", 90 * kNanosPerSecond},
      {"15m", 15 * 60 * kNanosPerSecond},
      {"1h", 3600 * kNanosPerSecond},
      {"7d", 7 * 86400 * kNanosPerSecond},
      {"250ms", 250'000'000},
      {"30", 30 * kNanosPerSecond},
      {"1ms", 1'000'000},
      {"1", kNanosPerSecond},
      {"007s", 7 * kNanosPerSecond},
      {"9223372036s", 9'223'372'036 * kNanosPerSecond},  // the largest whole second
      {"106751d", 106'751LL * 86400 * kNanosPerSecond},
  };
  for (const auto& [text, ns] : cases) {
    auto d = parseDuration(text);
    ASSERT_TRUE(d.isOk()) << text << ": " << d.status().toString();
    EXPECT_EQ(*d, ns) << text;
  }
}

TEST(DurationTest, RejectsZeroNegativeUnknownUnitsAndOverflow) {
  const char* bad[] = {"0",
                       "0s",
                       "000ms",
                       "-1",
                       "-5s",
                       "+5s",
                       "1x",
                       "5S",
                       "5sec",
                       "5 s",
                       " 5s",
                       "5s ",
                       "1.5h",
                       "1h30m",
                       "",
                       "s",
                       "ms",
                       "us",
                       "5us",
                       "5ns",
                       "9223372037s",           // > INT64_MAX ns
                       "9223372036855ms",       // > INT64_MAX ns
                       "153722867281m",         // > INT64_MAX ns
                       "106752d",               // > INT64_MAX ns
                       "18446744073709551616",  // > UINT64_MAX
                       "99999999999999999999999d"};
  for (const char* text : bad) {
    auto d = parseDuration(text);
    EXPECT_FALSE(d.isOk()) << "accepted '" << text << "' as " << d.valueOr(0);
    if (!d.isOk()) {
      EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument);
      EXPECT_NE(d.status().message().find("is not a positive number"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace zc
