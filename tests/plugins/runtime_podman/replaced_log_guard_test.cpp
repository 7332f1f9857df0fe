// ReplacedLogGuard: a follow from the beginning of a log whose file Podman had already replaced
// reports one gap before its first line; an original file, or a follow that read the original
// first, reports none; an unknown birth time says nothing.
#include "replaced_log_guard.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_support.h"

namespace zc::podman {
namespace {

constexpr TimeNs kStart = 1'796'000'000LL * kNanosPerSecond;

plugin::RawLine lineAt(TimeNs ts) {
  plugin::RawLine l;
  l.stream = LogStream::kStderr;
  l.ts = ts;
  l.text = "x";
  return l;
}

TEST(ReplacedLogGuardTest, AFileBornAfterTheStartHoldingTheFirstLineIsAGap) {
  auto gap = ReplacedLogGuard::gapBefore(lineAt(kStart + 500), kStart + 400, kStart);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->stream, LogStream::kStderr);
  EXPECT_EQ(gap->after, kStart);
  EXPECT_EQ(gap->before, kStart + 500);
  EXPECT_FALSE(gap->lines);
}

// conmon stamps a line before it creates the file the line goes to: the first line of the
// file read is a little older than its birth, and still a gap follows.
TEST(ReplacedLogGuardTest, TheFileReadIsJudgedByItsBirthAloneEvenWithAnOlderFirstLine) {
  EXPECT_TRUE(ReplacedLogGuard::gapBefore(lineAt(kStart + 390), kStart + 400, kStart, true));
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 390), kStart + 400, kStart, false));
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 500), kStart - 100, kStart, true));
}

TEST(ReplacedLogGuardTest, TheOriginalFileOrALineReadBeforeTheReplacementIsNoGap) {
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 500), kStart - 100, kStart));
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 300), kStart + 400, kStart));
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 500), std::nullopt, kStart));
  EXPECT_FALSE(ReplacedLogGuard::gapBefore(lineAt(kStart + 500), kStart + 400, std::nullopt));
}

class Sink final : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& c) noexcept override {
    chunks.push_back(std::move(c));
    return true;
  }
  void ended(Status) noexcept override {}
  std::vector<plugin::LogChunk> chunks;
};

TEST(ReplacedLogGuardTest, OnlyTheFirstChunkIsLookedAt) {
  zc::testing::TempDir dir;
  std::string path = dir.path() + "/ctr.log";
  std::ofstream(path) << "x\n";
  auto born = fileBirthTime(path);
  if (!born) GTEST_SKIP() << "no birth time on this file system";
  Sink sink;
  ReplacedLogGuard guard(path, *born - 1000, &sink);
  plugin::LogChunk a;
  a.lines.push_back(lineAt(*born + 10));
  plugin::LogChunk b;
  b.lines.push_back(lineAt(*born + 20));
  EXPECT_TRUE(guard.consume(std::move(a)));
  EXPECT_TRUE(guard.consume(std::move(b)));
  ASSERT_EQ(sink.chunks.size(), 2u);
  EXPECT_TRUE(sink.chunks[0].gap);
  EXPECT_FALSE(sink.chunks[1].gap);
}

// The path was replaced again after the follow opened its first file: the birth of the file
// now at the path is after the first line, so judged by the path there would be no gap. The
// birth of the file the follow opened (its source) says there is one.
TEST(ReplacedLogGuardTest, TheFileTheFollowOpenedIsJudgedNotTheOneNowAtThePath) {
  zc::testing::TempDir dir;
  std::string path = dir.path() + "/ctr.log";
  std::ofstream(path) << "x\n";
  auto born = fileBirthTime(path);
  if (!born) GTEST_SKIP() << "no birth time on this file system";
  Sink byPath;
  ReplacedLogGuard a(path, kStart, &byPath);
  plugin::LogChunk c1;
  c1.lines.push_back(lineAt(*born - 50));  // read from a file born before the one at the path
  EXPECT_TRUE(a.consume(std::move(c1)));
  EXPECT_FALSE(byPath.chunks[0].gap);
  Sink bySource;
  ReplacedLogGuard b(path, kStart, &bySource);
  b.setFileBirthSource([&]() -> std::optional<TimeNs> { return *born - 100; });
  plugin::LogChunk c2;
  c2.lines.push_back(lineAt(*born - 50));
  EXPECT_TRUE(b.consume(std::move(c2)));
  ASSERT_TRUE(bySource.chunks[0].gap);
  EXPECT_EQ(bySource.chunks[0].gap->after, kStart);
}

}  // namespace
}  // namespace zc::podman
