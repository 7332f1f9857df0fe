#include "cri_decoder.h"

#include <gtest/gtest.h>

namespace zc::logfile {
namespace {

constexpr TimeNs kTs = 1'795'970'101LL * kNanosPerSecond + 25'339'391;

TEST(CriDecoderTest, FullAndPartialRecords) {
  CriDecoder d;
  LogRecord r;
  ASSERT_TRUE(d.decode("2026-11-29T16:35:01.025339391+00:00 stdout F hello world", &r).isOk());
  EXPECT_EQ(r.content, "hello world\n");
  EXPECT_EQ(r.stream, LogStream::kStdout);
  EXPECT_EQ(r.ts, kTs);
  ASSERT_TRUE(d.decode("2026-11-29T16:35:01.025339391Z stderr P piece ", &r).isOk());
  EXPECT_EQ(r.content, "piece ");
  EXPECT_EQ(r.stream, LogStream::kStderr);
  ASSERT_TRUE(d.decode("2026-11-29T16:35:01.025339391Z stdout F", &r).isOk());
  EXPECT_EQ(r.content, "\n");
  ASSERT_TRUE(d.decode("2026-11-29T16:35:01.025339391Z stdout F:x  two spaces", &r).isOk());
  EXPECT_EQ(r.content, " two spaces\n");
}

TEST(CriDecoderTest, MalformedLinesAreCorruption) {
  CriDecoder d;
  LogRecord r;
  for (const char* bad : {"", "x stdout F a", "2026-11-29T16:35:01Z", "2026-11-29T16:35:01Z stdin F a",
                          "2026-11-29T16:35:01Z stdout X a", "2026-11-29T16:35:01Z stdout"}) {
    EXPECT_FALSE(d.decode(bad, &r).isOk()) << bad;
  }
}

}  // namespace
}  // namespace zc::logfile
