// FileFollower against json-files written by the test itself (no engine): pieces joined, both
// streams, exact resume from every cursor (also with timestamps going backwards), rotation while
// down (.N and .N.gz), a gap when the cursor's file is gone, and cursors that switch between the
// file and the API (LineAssembler fed the API's messages) in both directions.
#include "file_follower.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

namespace zc::docker {
namespace {

using namespace std::chrono_literals;
using plugin::RawLine;
using zc::testing::TempDir;

constexpr TimeNs kBase = 1'795'970'101LL * kNanosPerSecond;
constexpr size_t kPiece = 1024;  // piece size of these tests (the engine's is 16 KiB)

std::string jsonEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// One engine record: a json-file line and the same message as the API sends it.
struct Record {
  LogStream stream;
  TimeNs ts;
  std::string content;  // with '\n' when it ends a line
  std::string json() const {
    return R"({"log":")" + jsonEscape(content) + R"(","stream":")" +
           (stream == LogStream::kStderr ? "stderr" : "stdout") + R"(","time":")" +
           formatRfc3339Nano(ts) + "\"}\n";
  }
};

// The records of `lines` texts as the engine writes them: pieces of kPiece bytes.
void addLine(std::vector<Record>& out, LogStream s, TimeNs ts, const std::string& text) {
  size_t at = 0;
  while (text.size() - at >= kPiece) {
    out.push_back({s, ts, text.substr(at, kPiece)});
    at += kPiece;
    ts += 1;
  }
  out.push_back({s, ts, text.substr(at) + "\n"});
}

void writeRecords(const std::string& path, const std::vector<Record>& recs, size_t from = 0,
                  size_t to = SIZE_MAX) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  for (size_t i = from; i < std::min(to, recs.size()); ++i) f << recs[i].json();
}

struct Got {
  LogStream stream;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};
std::ostream& operator<<(std::ostream& o, const Got& g) {
  return o << (g.stream == LogStream::kStderr ? "err:" : "out:") << g.text.substr(0, 40) << "("
           << g.text.size() << ")";
}

class Collect final : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& c) noexcept override {
    std::unique_lock<std::mutex> lock(mu_);
    if (c.gap) {
      gaps.push_back(*c.gap);
      gapAt.push_back(lines.size());
    }
    for (RawLine& l : c.lines) lines.push_back({l.stream, l.text});
    cursors.emplace_back(lines.size(), c.cursor);
    ++chunks;
    cv_.notify_all();
    if (blockFirst && chunks == 1) cv_.wait(lock, [&] { return released; });
    return true;
  }
  // With blockFirst: waits until the first chunk is being consumed (the follow blocked in it).
  bool waitBlocked(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return chunks > 0; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released = true;
    cv_.notify_all();
  }
  void ended(Status why) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    endedWith = why;
    cv_.notify_all();
  }
  bool waitEnded(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return endedWith.has_value(); });
  }
  std::vector<Got> lines;
  std::vector<std::pair<size_t, std::string>> cursors;  // lines delivered so far, cursor
  std::vector<plugin::LogGap> gaps;
  std::vector<size_t> gapAt;  // lines delivered before each gap
  std::optional<Status> endedWith;
  bool blockFirst = false;  // the first consume() waits for release()
  bool released = false;
  size_t chunks = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

FollowOptions testOptions(size_t chunkLines = 1) {
  FollowOptions o;
  o.partialPieceBytes = kPiece;
  o.maxLineBytes = 1 << 20;
  o.chunkMaxLines = chunkLines;
  o.restartGrace = 0ms;
  return o;
}

class FileFollowerTest : public ::testing::Test {
 protected:
  std::shared_ptr<logfile::TailHub> hub_ =
      std::make_shared<logfile::TailHub>(logfile::TailHub::Options{2, 20ms});
  TempDir dir_;
  std::string path_ = dir_.path() + "/c-json.log";

  // Follows the log from `cursor` to its end (the container counts as stopped).
  std::unique_ptr<Collect> follow(const std::string& cursor, FollowOptions o = testOptions()) {
    auto c = std::make_unique<Collect>();
    auto decoded = LogCursor::decode(cursor);
    EXPECT_TRUE(decoded.isOk()) << cursor;
    plugin::ContainerInfo info;
    info.containerId = "c";
    info.name = "zynd-c";
    FileFollower f(nullptr, hub_, nullptr, info, path_, decoded.value(), c.get(), o);
    f.markContainerStopped();
    f.start();
    EXPECT_TRUE(c->waitEnded());
    f.stop();
    EXPECT_TRUE(c->endedWith && c->endedWith->isOk()) << (c->endedWith ? c->endedWith->toString() : "");
    return c;
  }
};

std::vector<Got> expectedLines(const std::vector<Record>& recs) {
  std::vector<Got> out;
  std::string pending[2];
  for (const Record& r : recs) {
    size_t s = r.stream == LogStream::kStderr ? 1 : 0;
    if (!r.content.empty() && r.content.back() == '\n') {
      out.push_back({r.stream, pending[s] + r.content.substr(0, r.content.size() - 1)});
      pending[s].clear();
    } else {
      pending[s] += r.content;
    }
  }
  return out;
}

// stdout: long lines of 2-3 pieces; stderr: short lines between the pieces; timestamps of the
// records in a random order (a clock stepping back and forth).
std::vector<Record> mixedRecords(int lines, bool backwards) {
  std::mt19937 rng(7);
  std::vector<Record> recs;
  std::vector<Record> out, err;
  TimeNs t = kBase;
  for (int i = 0; i < lines; ++i) {
    addLine(out, LogStream::kStdout, t, std::string(kPiece * (1 + i % 3) + 10 * i, 'a' + i % 26));
    addLine(err, LogStream::kStderr, t, "error " + std::to_string(i));
    t += 1000;
  }
  size_t a = 0, b = 0;
  while (a < out.size() || b < err.size()) {
    if (b >= err.size() || (a < out.size() && rng() % 2 == 0)) {
      recs.push_back(out[a++]);
    } else {
      recs.push_back(err[b++]);
    }
  }
  if (backwards) {
    for (Record& r : recs) r.ts = kBase + static_cast<TimeNs>(rng() % 1'000'000) * 1000;
  }
  return recs;
}

TEST_F(FileFollowerTest, ReadsBothStreamsAndJoinsPieces) {
  auto recs = mixedRecords(12, false);
  writeRecords(path_, recs);
  auto c = follow("", testOptions(4000));
  EXPECT_EQ(c->lines, expectedLines(recs));
  EXPECT_TRUE(c->gaps.empty());
}

// The next bytes of a file are on disk: a chunk holds at most 128 KiB of text, however many
// lines and bytes chunk_max_lines / chunk_max_bytes would allow (memory, not a wait, is saved).
TEST_F(FileFollowerTest, AChunkHoldsAtMost128KiBOfText) {
  std::vector<Record> recs;
  for (int i = 0; i < 3000; ++i) addLine(recs, LogStream::kStdout, kBase + i, std::string(99, 'x'));
  writeRecords(path_, recs);
  FollowOptions o = testOptions(1'000'000);
  o.chunkMaxBytes = 64 << 20;
  auto c = follow("", o);
  ASSERT_EQ(c->lines.size(), 3000u);
  ASSERT_GE(c->cursors.size(), 3u);  // 3,000 lines of 99 bytes: ~290 KiB
  size_t before = 0;
  for (const auto& [delivered, cursor] : c->cursors) {
    EXPECT_LE((delivered - before) * 99, (128u << 10) + 99) << "chunk after line " << before;
    before = delivered;
  }
}

TEST_F(FileFollowerTest, ResumesExactlyFromEveryCursorWithTimestampsGoingBackwards) {
  auto recs = mixedRecords(10, true);
  writeRecords(path_, recs);
  auto all = follow("");
  const auto want = expectedLines(recs);
  ASSERT_EQ(all->lines, want);
  ASSERT_FALSE(all->cursors.empty());
  for (const auto& [done, cursor] : all->cursors) {
    auto decoded = LogCursor::decode(cursor);
    ASSERT_TRUE(decoded.isOk());
    ASSERT_TRUE(decoded->file.has_value()) << cursor;
    auto rest = follow(cursor);
    std::vector<Got> tail(want.begin() + static_cast<long>(done), want.end());
    EXPECT_EQ(rest->lines, tail) << "after " << done << " lines, cursor " << cursor;
    EXPECT_TRUE(rest->gaps.empty());
  }
}

TEST_F(FileFollowerTest, RotatedFilesAreReadAfterARestartAndGzToo) {
  // Lines 0-9 in the file; the follow stops after 4; then the file rotates twice (the second
  // time compressed) while the follow is down.
  std::vector<Record> recs;
  for (int i = 0; i < 30; ++i) addLine(recs, LogStream::kStdout, kBase + i, "line " + std::to_string(i));
  writeRecords(path_, recs, 0, 10);
  auto first = follow("");
  const std::string cursor = first->cursors[3].second;  // after 4 lines
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  writeRecords(path_, recs, 10, 20);
  // Rotate again: .1 -> .2.gz (compressed, new inode), live -> .1.
  {
    std::ifstream in(path_ + ".1", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    gzFile gz = gzopen((path_ + ".2.gz").c_str(), "wb");
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    ::unlink((path_ + ".1").c_str());
  }
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  writeRecords(path_, recs, 20, 30);
  auto rest = follow(cursor);
  auto want = expectedLines(recs);
  EXPECT_EQ(rest->lines, std::vector<Got>(want.begin() + 4, want.end()));
  EXPECT_TRUE(rest->gaps.empty());
}

TEST_F(FileFollowerTest, ACursorWhoseFileIsGoneResumesByTimeWithAGap) {
  std::vector<Record> recs;
  for (int i = 0; i < 30; ++i) addLine(recs, LogStream::kStdout, kBase + i, "line " + std::to_string(i));
  writeRecords(path_, recs, 0, 10);
  auto first = follow("");
  const std::string cursor = first->cursors[3].second;
  // Rotated away (max-file=1 style): the file with the cursor and lines 10-19 are gone.
  ::unlink(path_.c_str());
  writeRecords(path_, recs, 20, 30);
  auto rest = follow(cursor);
  auto want = expectedLines(recs);
  EXPECT_EQ(rest->lines, std::vector<Got>(want.begin() + 20, want.end()));
  ASSERT_EQ(rest->gaps.size(), 1u);
  EXPECT_EQ(rest->gaps[0].after, kBase + 3);
  EXPECT_EQ(rest->gaps[0].before, kBase + 20);
}

// The API's messages of `recs`: "<RFC3339Nano> <content>".
std::string apiMessage(const Record& r) { return formatRfc3339Nano(r.ts) + " " + r.content; }

TEST_F(FileFollowerTest, CursorsSwitchBetweenTheApiAndTheFileBothWays) {
  auto recs = mixedRecords(8, false);
  writeRecords(path_, recs);
  const auto want = expectedLines(recs);
  LineAssembler::Options ao{1 << 20, kPiece};
  // API first: the assembler fed the API's messages up to each record, then the file follows.
  for (size_t cut = 0; cut <= recs.size(); cut += 3) {
    LineAssembler api(ao);
    api.reset(LogCursor{});
    std::vector<RawLine> got;
    for (size_t i = 0; i < cut; ++i) {
      std::string m = apiMessage(recs[i]);
      ASSERT_TRUE(api.message(recs[i].stream, m.data(), m.size(), got).isOk());
    }
    auto rest = follow(api.cursor().encode());
    std::vector<Got> all;
    for (const RawLine& l : got) all.push_back({l.stream, l.text});
    all.insert(all.end(), rest->lines.begin(), rest->lines.end());
    EXPECT_EQ(all, want) << "switch to the file after " << cut << " records";
  }
  // The file first: then an API follow resumes from each of its cursors (it re-sends from
  // `since`; here: every record, the assembler's filter drops what the cursor covers).
  auto fileRun = follow("");
  for (const auto& [done, cursor] : fileRun->cursors) {
    auto decoded = LogCursor::decode(cursor);
    ASSERT_TRUE(decoded.isOk());
    LineAssembler api(ao);
    api.reset(decoded.value());
    std::vector<RawLine> got;
    for (const Record& r : recs) {
      if (r.ts < decoded->sinceNs(0)) continue;
      std::string m = apiMessage(r);
      ASSERT_TRUE(api.message(r.stream, m.data(), m.size(), got).isOk());
    }
    api.finish(got);
    std::vector<Got> all(want.begin(), want.begin() + static_cast<long>(done));
    for (const RawLine& l : got) all.push_back({l.stream, l.text});
    EXPECT_EQ(all, want) << "switch to the API after " << done << " lines";
    EXPECT_FALSE(api.cursor().file.has_value());
  }
}

TEST_F(FileFollowerTest, FollowsWhatIsWrittenAfterItStarted) {
  auto c = std::make_unique<Collect>();
  plugin::ContainerInfo info;
  info.containerId = "c";
  info.name = "zynd-c";
  FileFollower f(nullptr, hub_, nullptr, info, path_, LogCursor{}, c.get(), testOptions(100));
  f.start();
  std::vector<Record> recs;
  for (int i = 0; i < 50; ++i) addLine(recs, LogStream::kStdout, kBase + i, "live " + std::to_string(i));
  for (size_t i = 0; i < recs.size(); i += 10) {
    writeRecords(path_, recs, i, i + 10);
    std::this_thread::sleep_for(5ms);
  }
  // Rotation while following.
  ASSERT_EQ(::rename(path_.c_str(), (path_ + ".1").c_str()), 0);
  std::vector<Record> more;
  for (int i = 50; i < 60; ++i) addLine(more, LogStream::kStdout, kBase + i, "live " + std::to_string(i));
  writeRecords(path_, more);
  recs.insert(recs.end(), more.begin(), more.end());
  f.markContainerStopped();
  ASSERT_TRUE(c->waitEnded());
  EXPECT_EQ(c->lines, expectedLines(recs));
  EXPECT_EQ(f.corruptLines(), 0u);
}

// Files deleted before the follow reached them are reported where the hole is: the lines read
// before it go in their own chunk, and the gap comes before the first line after it (a chunk's
// gap is stored before all of its lines).
TEST_F(FileFollowerTest, AGapFromDeletedFilesComesRightBeforeTheLinesAfterTheHole) {
  std::vector<Record> recs;
  for (int i = 0; i < 30; ++i) addLine(recs, LogStream::kStdout, kBase + i, "line " + std::to_string(i));
  writeRecords(path_, recs, 0, 8);  // A: lines 0-7
  Collect c;
  c.blockFirst = true;
  plugin::ContainerInfo info;
  info.containerId = "c";
  info.name = "zynd-c";
  FileFollower f(nullptr, hub_, nullptr, info, path_, LogCursor{}, &c, testOptions(5));
  f.start();
  ASSERT_TRUE(c.waitBlocked());  // lines 0-4 delivered; 5-7 read next
  // While it is blocked: A rotated and deleted, B (10-19) written, rotated and deleted, C live.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  writeRecords(path_, recs, 10, 20);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  writeRecords(path_, recs, 20, 30);
  c.release();
  f.markContainerStopped();
  ASSERT_TRUE(c.waitEnded());
  f.stop();
  auto want = expectedLines(recs);
  std::vector<Got> kept(want.begin(), want.begin() + 8);
  kept.insert(kept.end(), want.begin() + 20, want.end());
  EXPECT_EQ(c.lines, kept);
  ASSERT_EQ(c.gaps.size(), 1u);
  EXPECT_EQ(c.gapAt[0], 8u);
  EXPECT_EQ(c.gaps[0].after, kBase + 7);
  EXPECT_EQ(c.gaps[0].before, kBase + 20);
}

TEST_F(FileFollowerTest, MalformedLinesAreSkippedAndCounted) {
  std::vector<Record> recs;
  for (int i = 0; i < 3; ++i) addLine(recs, LogStream::kStdout, kBase + i, "ok " + std::to_string(i));
  writeRecords(path_, recs, 0, 1);
  { std::ofstream(path_, std::ios::app) << "{not json\n"; }
  writeRecords(path_, recs, 1, 3);
  auto c = follow("", testOptions(100));
  EXPECT_EQ(c->lines, expectedLines(recs));
}

TEST_F(FileFollowerTest, StopFromAnotherThreadEndsOnceWithAborted) {
  auto c = std::make_unique<Collect>();
  plugin::ContainerInfo info;
  info.containerId = "c";
  FileFollower f(nullptr, hub_, nullptr, info, path_, LogCursor{}, c.get(), testOptions());
  f.start();
  std::this_thread::sleep_for(50ms);
  f.stop();
  f.stop();
  ASSERT_TRUE(c->endedWith.has_value());
  EXPECT_EQ(c->endedWith->code(), Status::Code::kAborted);
}

}  // namespace
}  // namespace zc::docker
