#include "rfc3339.h"

#include <gtest/gtest.h>

namespace zc::logfile {
namespace {

TEST(Rfc3339Test, ParsesEveryFractionWidthAndOffset) {
  const TimeNs base = 1'795'970'101LL * kNanosPerSecond;  // 2026-11-29T16:35:01Z
  EXPECT_EQ(parseRfc3339Nano("2026-11-29T16:35:01Z"), base);
  EXPECT_EQ(parseRfc3339Nano("2026-11-29T16:35:01.025339391Z"), base + 25'339'391);
  EXPECT_EQ(parseRfc3339Nano("2026-11-29T16:35:01.5Z"), base + 500'000'000);
  EXPECT_EQ(parseRfc3339Nano("2026-11-29T17:35:01.5+01:00"), base + 500'000'000);
  EXPECT_EQ(parseRfc3339Nano("2026-11-29T16:05:01-00:30"), base);
  EXPECT_EQ(parseRfc3339Nano("2024-02-29T00:00:00Z").has_value(), true);
}

TEST(Rfc3339Test, RefusesMalformedTimes) {
  for (const char* bad : {"", "2026-11-29", "2026-11-29T16:35:01", "2026-13-29T16:35:01Z",
                          "2026-02-30T16:35:01Z", "2023-02-29T00:00:00Z", "2026-11-29T16:35:01.Z",
                          "2026-11-29T16:35:01Zx", "1969-12-31T23:59:59Z", "2026-11-29T24:00:00Z",
                          "9999-01-01T00:00:00Z", "2026-11-29T16:35:01+1:00", "2026-11-29 16:35:01Z",
                          "２026-11-29T16:35:01Z"}) {
    EXPECT_FALSE(parseRfc3339Nano(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace zc::logfile
