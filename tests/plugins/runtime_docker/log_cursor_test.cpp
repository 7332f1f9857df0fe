#include "log_cursor.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "line_assembler.h"

namespace zc::docker {
namespace {

using plugin::RawLine;

constexpr TimeNs kBase = 1'764'290'225'000'000'000;

TEST(LogCursorTest, EncodeDecodeRoundTrip) {
  LogCursor c;
  EXPECT_EQ(c.encode(), "");
  auto empty = LogCursor::decode("");
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());
  c.out = {kBase + 5, 3, kBase + 9};
  c.err = {kBase + 1, 1, 0};
  std::string s = c.encode();
  EXPECT_LT(s.size(), 100u);
  auto d = LogCursor::decode(s);
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  EXPECT_EQ(d.value(), c);
}

TEST(LogCursorTest, FilePartRoundTripsAndV1StillParses) {
  LogCursor c;
  c.out = {kBase + 5, 3, kBase + 9};
  c.file = FileCursor{2049, 123456789, 180, 0xfedcba9876543210ull, 1 << 20, 2, 0};
  std::string s = c.encode();
  EXPECT_EQ(s.rfind("v2-", 0), 0u) << s;
  auto d = LogCursor::decode(s);
  ASSERT_TRUE(d.isOk()) << d.status().toString();
  EXPECT_EQ(d.value(), c);
  // A file part alone (nothing delivered yet, the position known) is not empty.
  LogCursor onlyFile;
  onlyFile.file = FileCursor{};
  EXPECT_FALSE(onlyFile.empty());
  EXPECT_EQ(LogCursor::decode(onlyFile.encode()).value(), onlyFile);
  // A cursor written before the file part existed.
  auto v1 = LogCursor::decode("v1-1764290225000000005-3-0-0-0-0");
  ASSERT_TRUE(v1.isOk());
  EXPECT_FALSE(v1->file.has_value());
  EXPECT_EQ(v1->out.count, 3u);
  // The line assembler (the API follow) never carries a file part on.
  LineAssembler a(LineAssembler::Options{});
  a.reset(c);
  EXPECT_FALSE(a.cursor().file.has_value());
  for (std::string_view bad : {"v2-1-1-0-0-0-0-1-1-1-1-1-1", "v2-1-1-0-0-0-0-1-1-4097-1-1-1-1",
                               "v2-1-1-0-0-0-0-1-1-1-1-1-1-4294967296",
                               "v2-1-1-0-0-0-0-1-1-1-1-9223372036854775808-1-1",
                               "v2-1-1-0-0-0-0-1-1-1-1-1-1-1-1", "v3-1-1-0-0-0-0"}) {
    EXPECT_FALSE(LogCursor::decode(bad).isOk()) << bad;
  }
}

TEST(LogCursorTest, MalformedCursorsAreInvalidArgument) {
  for (std::string_view bad : std::vector<std::string_view>{"x", "v1", "v1-", "v2-1-1-0-0-0-0", "v1-1-1-0-0-0", "v1-1-1-0-0-0-0-0", "v1-a-1-0-0-0-0",
        "v1--1-1-0-0-0-0", "v1-1-1-0-0-0-", "v1-1-0-0-0-0-0", "v1-0-1-0-0-0-0",
        "v1-99999999999999999999-1-0-0-0-0", "v1-1-4294967296-0-0-0-0", "v1-+1-1-0-0-0-0",
        "v1-1-1-0-0-0-0 ", std::string_view("v1-1-1-0\0-0-0-0", 15)}) {
    auto d = LogCursor::decode(bad);
    EXPECT_FALSE(d.isOk()) << bad;
    if (!d.isOk()) {
      EXPECT_EQ(d.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
  std::string longOne(1000, '9');
  EXPECT_FALSE(LogCursor::decode("v1-" + longOne).isOk());
}

TEST(LogCursorTest, SinceIsTheEarliestPositionMinusTheMargin) {
  LogCursor c;
  EXPECT_EQ(c.sinceNs(kNanosPerSecond), 0);
  c.out = {kBase + 5 * kNanosPerSecond, 1, 0};
  c.err = {kBase + 3 * kNanosPerSecond, 2, 0};
  EXPECT_EQ(c.sinceNs(kNanosPerSecond), kBase + 2 * kNanosPerSecond);
  c.out.pendingTs = kBase + kNanosPerSecond;
  EXPECT_EQ(c.sinceNs(0), kBase + kNanosPerSecond);
  EXPECT_EQ(formatSince(kBase + 42), "1764290225.000000042");
  LogCursor early;
  early.out = {10, 1, 0};
  EXPECT_EQ(early.sinceNs(kNanosPerSecond), 0);
}

// An engine model: the log is a list of messages in file order; `since` returns those whose own
// timestamp is >= since, as the engine's json-file reader does.
struct Message {
  LogStream stream;
  TimeNs ts;
  std::string content;
};

std::vector<RawLine> runFrom(const std::vector<Message>& log, const LogCursor& cursor,
                             const LineAssembler::Options& opt, int64_t margin, bool finish,
                             std::vector<std::pair<LogCursor, size_t>>* boundaries = nullptr) {
  LineAssembler a(opt);
  a.reset(cursor);
  TimeNs since = cursor.sinceNs(margin);
  std::vector<RawLine> out;
  for (const auto& m : log) {
    if (m.ts < since) continue;
    std::string wire = formatRfc3339Nano(m.ts) + " " + m.content;
    EXPECT_TRUE(a.message(m.stream, wire.data(), wire.size(), out).isOk());
    if (boundaries) boundaries->push_back({a.cursor(), out.size()});
  }
  if (finish) a.finish(out);
  return out;
}

void expectSameLines(const std::vector<RawLine>& a, const std::vector<RawLine>& b,
                     const std::string& ctx) {
  ASSERT_EQ(a.size(), b.size()) << ctx;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].text, b[i].text) << ctx << " line " << i;
    ASSERT_EQ(a[i].stream, b[i].stream) << ctx << " line " << i;
    ASSERT_EQ(a[i].ts, b[i].ts) << ctx << " line " << i;
    ASSERT_EQ(a[i].truncated, b[i].truncated) << ctx << " line " << i;
  }
}

// Lines of one stream, in order.
std::vector<RawLine> ofStream(const std::vector<RawLine>& v, LogStream s) {
  std::vector<RawLine> r;
  for (const auto& l : v) {
    if (l.stream == s) r.push_back(l);
  }
  return r;
}

// Resumes at every message boundary and checks that delivered + resumed is exactly the log.
void checkResumeEverywhere(const std::vector<Message>& log, const LineAssembler::Options& opt,
                           int64_t margin) {
  std::vector<std::pair<LogCursor, size_t>> boundaries;
  std::vector<RawLine> all = runFrom(log, LogCursor{}, opt, margin, true, &boundaries);
  for (size_t i = 0; i < boundaries.size(); ++i) {
    const auto& [cursor, delivered] = boundaries[i];
    // Round-trip the cursor through its string form, as the host stores it.
    auto decoded = LogCursor::decode(cursor.encode());
    ASSERT_TRUE(decoded.isOk());
    std::vector<RawLine> rest = runFrom(log, decoded.value(), opt, margin, true);
    std::vector<RawLine> joined(all.begin(), all.begin() + static_cast<long>(delivered));
    joined.insert(joined.end(), rest.begin(), rest.end());
    // Order across streams may differ only for lines re-read after the skew margin; per stream
    // it is exact.
    for (LogStream s : {LogStream::kStdout, LogStream::kStderr}) {
      expectSameLines(ofStream(joined, s), ofStream(all, s),
                      "resume after message " + std::to_string(i) + " cursor " + cursor.encode());
    }
  }
}

TEST(LogCursorTest, ResumeAtEveryPointWithEqualTimestamps) {
  std::vector<Message> log;
  // Bursts of identical timestamps on both streams (the engine's clock is coarse under load).
  int n = 0;
  for (int burst = 0; burst < 6; ++burst) {
    TimeNs ts = kBase + burst * 1000;
    for (int i = 0; i < 5; ++i) {
      log.push_back({i % 3 == 0 ? LogStream::kStderr : LogStream::kStdout, ts,
                     "line " + std::to_string(n++) + "\n"});
    }
  }
  checkResumeEverywhere(log, LineAssembler::Options{}, kNanosPerSecond);
}

TEST(LogCursorTest, ResumeAtEveryPointWithPiecesAndCrossStreamSkew) {
  LineAssembler::Options opt{64, 8};
  std::vector<Message> log;
  TimeNs t = kBase;
  // stderr's timestamps run up to 0.4 s behind stdout's in file order.
  for (int i = 0; i < 40; ++i) {
    t += (i % 4 == 0) ? 0 : 1'000'000;  // some equal timestamps
    LogStream s = i % 3 == 1 ? LogStream::kStderr : LogStream::kStdout;
    TimeNs ts = s == LogStream::kStderr ? t - 400'000'000 : t;
    switch (i % 5) {
      case 0:  // a long line in three pieces with the same timestamp
        log.push_back({s, ts, "AAAAAAA" + std::to_string(i % 10)});
        log.push_back({s, ts, "BBBBBBBB"});
        log.push_back({s, ts, "end" + std::to_string(i) + "\r\n"});
        break;
      case 1:  // pieces with their own, later timestamps
        log.push_back({s, ts, "CCCCCCC" + std::to_string(i % 10)});
        log.push_back({s, ts + 1, "tail" + std::to_string(i) + "\n"});
        t += 1;  // each stream's timestamps never go backwards
        break;
      case 2:  // over the cap
        log.push_back({s, ts, std::string(70, 'x') + std::to_string(i) + "\n"});
        break;
      default:
        log.push_back({s, ts, "plain " + std::to_string(i) + "\n"});
    }
  }
  checkResumeEverywhere(log, opt, kNanosPerSecond);
}

TEST(LogCursorTest, ResumeAtEveryPointOfARandomLog) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    LineAssembler::Options opt{40, 8};
    std::vector<Message> log;
    TimeNs t = kBase;
    for (int i = 0; i < 60; ++i) {
      int si = static_cast<int>(rng() % 2);
      t += static_cast<TimeNs>(rng() % 3) * 100'000'000;  // 0, 0.1 s, 0.2 s
      LogStream s = si ? LogStream::kStderr : LogStream::kStdout;
      TimeNs ts = si ? t - 300'000'000 : t;  // stderr skewed 0.3 s behind, each stream monotonic
      int kind = static_cast<int>(rng() % 6);
      if (kind == 0) {
        log.push_back({s, ts, std::string(8, static_cast<char>('a' + rng() % 26))});
      } else {
        log.push_back({s, ts, "m" + std::to_string(i) + std::string(rng() % 50, '.') + "\n"});
      }
    }
    checkResumeEverywhere(log, opt, kNanosPerSecond);
  }
}

TEST(LogCursorTest, OverlapWithEqualTimestampsIsDroppedExactly) {
  // Three stdout messages share one timestamp; delivered two of them: the resume drops exactly
  // two and keeps the third.
  LineAssembler a(LineAssembler::Options{});
  LogCursor c;
  c.out = {kBase, 2, 0};
  a.reset(c);
  std::vector<RawLine> out;
  for (const char* text : {"one\n", "two\n", "three\n"}) {
    std::string m = formatRfc3339Nano(kBase) + " " + text;
    ASSERT_TRUE(a.message(LogStream::kStdout, m.data(), m.size(), out).isOk());
  }
  std::string older = formatRfc3339Nano(kBase - 1) + " older\n";
  ASSERT_TRUE(a.message(LogStream::kStderr, older.data(), older.size(), out).isOk());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "three");
  EXPECT_EQ(out[1].text, "older");  // stderr had nothing delivered: nothing is dropped there
  EXPECT_EQ(a.cursor().out.lastTs, kBase);
  EXPECT_EQ(a.cursor().out.count, 3u);
}

}  // namespace
}  // namespace zc::docker
