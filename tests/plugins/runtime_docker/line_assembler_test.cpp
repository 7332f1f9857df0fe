#include "line_assembler.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zc::docker {
namespace {

using plugin::RawLine;

constexpr TimeNs kBase = 1'764'290'225'000'000'000;  // 2025-11-28T00:37:05Z

std::string msg(TimeNs ts, const std::string& content) {
  return formatRfc3339Nano(ts) + " " + content;
}

struct Fixture {
  explicit Fixture(size_t maxLine = 1 << 20, size_t piece = 16 * 1024)
      : a(LineAssembler::Options{maxLine, piece}) {}
  void put(LogStream s, TimeNs ts, const std::string& content) {
    std::string m = msg(ts, content);
    ASSERT_TRUE(a.message(s, m.data(), m.size(), out).isOk());
  }
  LineAssembler a;
  std::vector<RawLine> out;
};

TEST(LineAssemblerTest, WholeLinesKeepTheirTimestamps) {
  Fixture f;
  f.put(LogStream::kStdout, kBase + 1, "hello\n");
  f.put(LogStream::kStderr, kBase + 2, "oops\n");
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].text, "hello");
  EXPECT_EQ(f.out[0].ts, kBase + 1);
  EXPECT_EQ(f.out[0].stream, LogStream::kStdout);
  EXPECT_EQ(f.out[1].text, "oops");
  EXPECT_EQ(f.out[1].stream, LogStream::kStderr);
  EXPECT_FALSE(f.out[0].truncated);
}

TEST(LineAssemblerTest, LongLinePiecesAreReassembledWithTheFirstTimestamp) {
  Fixture f;
  const std::string p1(16 * 1024, 'a'), p2(16 * 1024, 'b');
  f.put(LogStream::kStdout, kBase + 10, p1);
  f.put(LogStream::kStdout, kBase + 20, p2);
  EXPECT_TRUE(f.out.empty());
  EXPECT_EQ(f.a.cursor().out.pendingTs, kBase + 10);
  f.put(LogStream::kStdout, kBase + 30, "end\n");
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].text, p1 + p2 + "end");
  EXPECT_EQ(f.out[0].ts, kBase + 10);
  EXPECT_EQ(f.a.cursor().out.pendingTs, 0);
  EXPECT_EQ(f.a.cursor().out.lastTs, kBase + 30);
  EXPECT_EQ(f.a.cursor().out.count, 1u);
}

TEST(LineAssemblerTest, PiecesWithEqualTimestampsCountEach) {
  Fixture f;
  f.put(LogStream::kStdout, kBase, "before\n");
  f.put(LogStream::kStdout, kBase, std::string(16 * 1024, 'a'));
  f.put(LogStream::kStdout, kBase, std::string(16 * 1024, 'a'));
  f.put(LogStream::kStdout, kBase, "z\n");
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.a.cursor().out.lastTs, kBase);
  EXPECT_EQ(f.a.cursor().out.count, 4u);
}

TEST(LineAssemblerTest, StdoutAndStderrPiecesInterleave) {
  Fixture f(1 << 20, 8);
  f.put(LogStream::kStdout, kBase + 1, "AAAAAAAA");
  f.put(LogStream::kStderr, kBase + 2, "BBBBBBBB");
  f.put(LogStream::kStdout, kBase + 3, "aa\n");
  f.put(LogStream::kStderr, kBase + 4, "bb\n");
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].text, "AAAAAAAAaa");
  EXPECT_EQ(f.out[0].ts, kBase + 1);
  EXPECT_EQ(f.out[0].stream, LogStream::kStdout);
  EXPECT_EQ(f.out[1].text, "BBBBBBBBbb");
  EXPECT_EQ(f.out[1].ts, kBase + 2);
  EXPECT_EQ(f.out[1].stream, LogStream::kStderr);
}

TEST(LineAssemblerTest, LineOverTheCapIsTruncatedAndTheNextIsIntact) {
  Fixture f(10, 8);
  f.put(LogStream::kStdout, kBase + 1, "0123456789ABCDEF\n");
  f.put(LogStream::kStdout, kBase + 2, "01234567");  // piece
  f.put(LogStream::kStdout, kBase + 3, "89abcdef");  // piece
  f.put(LogStream::kStdout, kBase + 4, "XYZ\n");
  f.put(LogStream::kStdout, kBase + 5, "next\n");
  ASSERT_EQ(f.out.size(), 3u);
  EXPECT_EQ(f.out[0].text, "0123456789");
  EXPECT_TRUE(f.out[0].truncated);
  EXPECT_EQ(f.out[1].text, "0123456789");
  EXPECT_TRUE(f.out[1].truncated);
  EXPECT_EQ(f.out[1].ts, kBase + 2);
  EXPECT_EQ(f.out[2].text, "next");
  EXPECT_FALSE(f.out[2].truncated);
}

TEST(LineAssemblerTest, LineOfExactlyTheCapIsNotTruncated) {
  Fixture f(10, 8);
  f.put(LogStream::kStdout, kBase + 1, "0123456789\r\n");
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].text, "0123456789");
  EXPECT_FALSE(f.out[0].truncated);
}

TEST(LineAssemblerTest, CrlfIsStripped) {
  Fixture f(1 << 20, 8);
  f.put(LogStream::kStdout, kBase + 1, "dos\r\n");
  f.put(LogStream::kStdout, kBase + 2, "1234567\r");  // piece ending with the CR
  f.put(LogStream::kStdout, kBase + 3, "\n");
  f.put(LogStream::kStdout, kBase + 4, "inner\rcr\n");
  ASSERT_EQ(f.out.size(), 3u);
  EXPECT_EQ(f.out[0].text, "dos");
  EXPECT_EQ(f.out[1].text, "1234567");
  EXPECT_EQ(f.out[2].text, "inner\rcr");
}

TEST(LineAssemblerTest, InvalidUtf8AndControlBytesAreKept) {
  Fixture f;
  std::string weird("\xff\xfe\x01\x1b[31mred\x00zero", 16);
  f.put(LogStream::kStderr, kBase, weird + "\n");
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].text, weird);
}

TEST(LineAssemblerTest, InnerNewlinesSplitWithTheSameTimestamp) {
  Fixture f;
  f.put(LogStream::kStdout, kBase + 7, "a\nb\n\nc\n");
  ASSERT_EQ(f.out.size(), 4u);
  EXPECT_EQ(f.out[0].text, "a");
  EXPECT_EQ(f.out[1].text, "b");
  EXPECT_EQ(f.out[2].text, "");
  EXPECT_EQ(f.out[3].text, "c");
  for (const auto& l : f.out) EXPECT_EQ(l.ts, kBase + 7);
  EXPECT_EQ(f.a.cursor().out.count, 1u);  // one engine message
}

TEST(LineAssemblerTest, ShortContentWithoutNewlineIsTheLastPieceOfARun) {
  Fixture f;
  f.put(LogStream::kStdout, kBase + 1, "noeol");
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].text, "noeol");
  f.put(LogStream::kStdout, kBase + 2, "next run\n");
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[1].text, "next run");
}

TEST(LineAssemblerTest, FinishCompletesPendingLines) {
  Fixture f(1 << 20, 8);
  f.put(LogStream::kStdout, kBase + 1, "12345678");
  f.put(LogStream::kStderr, kBase + 2, "abcdefgh");
  EXPECT_TRUE(f.a.hasPending());
  f.a.finish(f.out);
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].text, "12345678");
  EXPECT_EQ(f.out[1].text, "abcdefgh");
  EXPECT_FALSE(f.a.hasPending());
  EXPECT_EQ(f.a.cursor().out.lastTs, kBase + 1);
  EXPECT_EQ(f.a.cursor().err.lastTs, kBase + 2);
}

TEST(LineAssemblerTest, AResumeThatFindsTheCursorsOwnLineReportsNoGap) {
  Fixture f;
  LogCursor c;
  c.out = {kBase + 10, 1, 0};
  f.a.reset(c);
  f.put(LogStream::kStdout, kBase + 5, "before\n");  // the since margin
  f.put(LogStream::kStdout, kBase + 10, "stored\n");  // the cursor's own line, re-sent
  f.put(LogStream::kStdout, kBase + 20, "new\n");
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].text, "new");
  EXPECT_FALSE(f.a.takeGap().has_value());
}

TEST(LineAssemblerTest, AResumeWhoseCursorLineIsGoneReportsOneGap) {
  Fixture f;
  LogCursor c;
  c.out = {kBase + 10, 1, 0};
  c.err = {kBase + 12, 1, 0};
  f.a.reset(c);
  f.put(LogStream::kStderr, kBase + 12, "stored\n");         // stderr: all there
  f.put(LogStream::kStdout, kBase + 500, "first held\n");    // stdout: rotated away
  f.put(LogStream::kStdout, kBase + 501, "second held\n");
  ASSERT_EQ(f.out.size(), 2u);
  EXPECT_EQ(f.out[0].text, "first held");
  auto gap = f.a.takeGap();
  ASSERT_TRUE(gap.has_value());
  EXPECT_EQ(gap->stream, LogStream::kStdout);
  EXPECT_EQ(gap->after, kBase + 10);
  EXPECT_EQ(gap->before, kBase + 500);
  EXPECT_FALSE(gap->lines.has_value());
  EXPECT_FALSE(f.a.takeGap().has_value());  // once
}

TEST(LineAssemblerTest, AFreshFollowReportsNoGap) {
  Fixture f;
  f.a.reset(LogCursor{});
  f.put(LogStream::kStdout, kBase + 500, "first\n");
  EXPECT_FALSE(f.a.takeGap().has_value());
}

TEST(LineAssemblerTest, MissingTimestampIsCorruption) {
  LineAssembler a(LineAssembler::Options{});
  std::vector<RawLine> out;
  std::string m = "no timestamp here\n";
  EXPECT_EQ(a.message(LogStream::kStdout, m.data(), m.size(), out).code(), Status::Code::kCorruption);
  m = "2026-13-99T00:00:00.000000000Z x\n";
  EXPECT_FALSE(a.message(LogStream::kStdout, m.data(), m.size(), out).isOk());
  EXPECT_TRUE(out.empty());
}

TEST(LineAssemblerTest, NonFixedWidthTimestampsAreAccepted) {
  Fixture f;
  std::string m = "2025-11-28T00:37:05.5Z short fraction\n";
  ASSERT_TRUE(f.a.message(LogStream::kStdout, m.data(), m.size(), f.out).isOk());
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].ts, kBase + 500'000'000);
  EXPECT_EQ(f.out[0].text, "short fraction");
}

TEST(LineAssemblerTest, FixedTimestampParserMatchesTheCore) {
  TimestampParser p;
  for (TimeNs t : {TimeNs{1}, kBase, kBase + 999'999'999, TimeNs{951'782'400} * kNanosPerSecond,
                   TimeNs{4'102'444'799'123'456'789}}) {
    std::string s = formatRfc3339Nano(t) + " ";
    TimeNs got = 0;
    size_t len = 0;
    ASSERT_TRUE(p.parsePrefix(s.data(), s.size(), &got, &len)) << s;
    EXPECT_EQ(got, t) << s;
    EXPECT_EQ(len, 31u);
  }
}

}  // namespace
}  // namespace zc::docker
