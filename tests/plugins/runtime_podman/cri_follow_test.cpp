// The Podman runtime's log follow: FileFollower reading a k8s-file (CRI) log the test writes
// itself, as conmon does: `P` pieces of any length joined into one line, both streams, a resume
// from every cursor taking each line once, and Podman's max-size rotation, which replaces the
// file (new inode, no backup): lines of the new file once each, and one gap for what the
// replaced file held after the cursor.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "file_follower.h"
#include "podman_options.h"
#include "test_support.h"

namespace zc::podman {
namespace {

using namespace std::chrono_literals;
using docker::FileFollower;
using docker::LogCursor;
using docker::LogFileFormat;
using zc::testing::TempDir;

constexpr TimeNs kBase = 1'795'970'101LL * kNanosPerSecond;

struct Got {
  LogStream stream;
  std::string text;
  friend bool operator==(const Got&, const Got&) = default;
};
std::ostream& operator<<(std::ostream& o, const Got& g) {
  return o << (g.stream == LogStream::kStderr ? "err:" : "out:") << g.text.substr(0, 40) << "("
           << g.text.size() << ")";
}

// CRI records of one line: pieces of the given sizes as `P`, the rest as `F`.
std::string criLine(LogStream s, TimeNs& ts, const std::string& text,
                    const std::vector<size_t>& pieces = {}) {
  const char* name = s == LogStream::kStderr ? "stderr" : "stdout";
  std::string out;
  size_t at = 0;
  for (size_t n : pieces) {
    out += formatRfc3339Nano(ts++) + " " + name + " P " + text.substr(at, n) + "\n";
    at += n;
  }
  out += formatRfc3339Nano(ts++) + " " + name + " F " + text.substr(at) + "\n";
  return out;
}

void append(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << bytes;
}

class Collect final : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& c) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    for (plugin::RawLine& l : c.lines) lines.push_back({l.stream, l.text});
    cursors.emplace_back(lines.size(), c.cursor);
    if (c.gap) {
      gaps.push_back(*c.gap);
      gapAtLine.push_back(lines.size() - c.lines.size());  // lines stored before it
    }
    cv_.notify_all();
    return true;
  }
  size_t gapsSeen() {
    std::lock_guard<std::mutex> lock(mu_);
    return gaps.size();
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
  bool waitLines(size_t n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return lines.size() >= n; });
  }
  std::vector<Got> lines;
  std::vector<std::pair<size_t, std::string>> cursors;
  std::vector<plugin::LogGap> gaps;
  std::vector<size_t> gapAtLine;
  std::optional<Status> endedWith;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

docker::FollowOptions criOptions(size_t chunkLines) {
  docker::FollowOptions o = parsePodmanOptions({}).value().follow;  // the plugin's own settings
  o.chunkMaxLines = chunkLines;
  o.restartGrace = 0ms;
  return o;
}

class CriFollowTest : public ::testing::Test {
 protected:
  std::shared_ptr<logfile::TailHub> hub_ =
      std::make_shared<logfile::TailHub>(logfile::TailHub::Options{2, 20ms});
  TempDir dir_;
  std::string path_ = dir_.path() + "/ctr.log";

  plugin::ContainerInfo info() const {
    plugin::ContainerInfo i;
    i.containerId = "c";
    i.name = "zynd-c";
    return i;
  }

  // Follows the log from `cursor` to its end (the container counts as stopped).
  std::unique_ptr<Collect> follow(const std::string& cursor, size_t chunkLines = 1) {
    auto c = std::make_unique<Collect>();
    auto decoded = LogCursor::decode(cursor);
    EXPECT_TRUE(decoded.isOk()) << cursor;
    FileFollower f(nullptr, hub_, nullptr, info(), path_, decoded.value(), c.get(),
                   criOptions(chunkLines), LogFileFormat::kCri,
                   logfile::Rotation::kReplace);
    f.markContainerStopped();
    f.start();
    EXPECT_TRUE(c->waitEnded());
    f.stop();
    EXPECT_TRUE(c->endedWith && c->endedWith->isOk());
    return c;
  }

  // Replaces the live file as conmon's max-size does: a new file renamed over it.
  void replaceWith(const std::string& bytes) {
    std::string tmp = path_ + ".tmp";
    append(tmp, bytes);
    ASSERT_EQ(::rename(tmp.c_str(), path_.c_str()), 0);
  }
};

TEST_F(CriFollowTest, JoinsPartialPiecesOfAnyLengthOnBothStreams) {
  TimeNs ts = kBase;
  std::string big(100'000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  std::string log;
  log += criLine(LogStream::kStdout, ts, "abcdefghij", {3, 1, 4});
  log += criLine(LogStream::kStderr, ts, "oops");
  // conmon cuts at 8,192 bytes and at its read-buffer ends: pieces of uneven sizes.
  log += criLine(LogStream::kStdout, ts, big, {8192, 8192, 100, 8192, 5000, 8192, 8192});
  log += criLine(LogStream::kStderr, ts, "");
  append(path_, log);
  auto c = follow("", 4000);
  EXPECT_EQ(c->lines, (std::vector<Got>{{LogStream::kStdout, "abcdefghij"},
                                        {LogStream::kStderr, "oops"},
                                        {LogStream::kStdout, big},
                                        {LogStream::kStderr, ""}}));
  EXPECT_TRUE(c->gaps.empty());
}

TEST_F(CriFollowTest, ResumesFromEveryCursorWithEachLineOnce) {
  TimeNs ts = kBase;
  std::string log;
  std::vector<Got> want;
  for (int i = 0; i < 30; ++i) {
    std::string text = "line " + std::to_string(i) + std::string(i * 37, 'p');
    LogStream s = i % 3 == 0 ? LogStream::kStderr : LogStream::kStdout;
    log += criLine(s, ts, text, i % 4 == 1 ? std::vector<size_t>{5, 2} : std::vector<size_t>{});
    want.push_back({s, text});
  }
  append(path_, log);
  auto all = follow("");
  ASSERT_EQ(all->lines, want);
  for (const auto& [delivered, cursor] : all->cursors) {
    auto rest = follow(cursor, 7);
    std::vector<Got> tail(want.begin() + static_cast<std::ptrdiff_t>(delivered), want.end());
    EXPECT_EQ(rest->lines, tail) << "from " << cursor;
    EXPECT_TRUE(rest->gaps.empty()) << "from " << cursor;
  }
}

TEST_F(CriFollowTest, AFileReplacedWhileDownGivesOneGapAndTheNewLinesOnce) {
  TimeNs ts = kBase;
  std::string first;
  for (int i = 0; i < 10; ++i) first += criLine(LogStream::kStdout, ts, "old " + std::to_string(i));
  append(path_, first);
  auto c = follow("");
  ASSERT_EQ(c->lines.size(), 10u);
  const std::string cursorAt5 = c->cursors[4].second;  // 5 lines stored, 5 unread in the file
  std::string second;
  std::vector<Got> want;
  for (int i = 0; i < 10; ++i) {
    second += criLine(LogStream::kStdout, ts, "new " + std::to_string(i));
    want.push_back({LogStream::kStdout, "new " + std::to_string(i)});
  }
  replaceWith(second);
  auto resumed = follow(cursorAt5, 3);
  EXPECT_EQ(resumed->lines, want);
  ASSERT_EQ(resumed->gaps.size(), 1u);  // old 5..9 are gone with the replaced file
  EXPECT_EQ(resumed->gaps[0].stream, LogStream::kStdout);
  EXPECT_LT(resumed->gaps[0].after, resumed->gaps[0].before);
}

TEST_F(CriFollowTest, AFileReplacedUnderAFollowLosesNothing) {
  TimeNs ts = kBase;
  std::vector<Got> want;
  std::string first;
  for (int i = 0; i < 50; ++i) {
    first += criLine(LogStream::kStdout, ts, "a" + std::to_string(i));
    want.push_back({LogStream::kStdout, "a" + std::to_string(i)});
  }
  append(path_, first);
  auto c = std::make_unique<Collect>();
  FileFollower f(nullptr, hub_, nullptr, info(), path_, LogCursor{}, c.get(), criOptions(16),
                 LogFileFormat::kCri, logfile::Rotation::kReplace);
  f.start();
  ASSERT_TRUE(c->waitLines(50));
  // Podman replaces the file; the follow holds the old one open and has read it all, so the
  // new one is read from its start.
  std::string second;
  for (int i = 0; i < 50; ++i) {
    second += criLine(LogStream::kStdout, ts, "b" + std::to_string(i));
    want.push_back({LogStream::kStdout, "b" + std::to_string(i)});
  }
  replaceWith(second);
  ASSERT_TRUE(c->waitLines(100));
  std::this_thread::sleep_for(100ms);
  f.markContainerStopped();
  EXPECT_TRUE(c->waitEnded());
  f.stop();
  EXPECT_EQ(c->lines, want);
  // Without an inotify instance (all taken by other processes) the hub cannot count
  // replacements, and each one is reported as a possible loss.
  if (hub_->inotifyActive()) {
    EXPECT_TRUE(c->gaps.empty()) << c->gaps.size() << " gap(s) where nothing was lost";
  }
}

// A consumer whose first consume() blocks until released: the follow is held between two
// looks at its file, as a slow store holds it.
class HeldCollect final : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& c) noexcept override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
    }
    return inner.consume(std::move(c));
  }
  void ended(Status why) noexcept override { inner.ended(std::move(why)); }
  bool waitHeld(std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return entered_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  Collect inner;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool released_ = false;
};

// Replaced twice while the follow is held in a store (B never opened, gone), and the file now
// there (C) stays empty: the container never writes again. The loss is still stored, as a gap
// of its own, before the follow ends.
TEST_F(CriFollowTest, AFileReplacedTwiceBetweenTwoLooksGivesAGapEvenWithNoLineAfter) {
  TimeNs ts = kBase;
  std::vector<Got> want;
  std::string first;
  for (int i = 0; i < 5; ++i) {
    first += criLine(LogStream::kStdout, ts, "a" + std::to_string(i));
    want.push_back({LogStream::kStdout, "a" + std::to_string(i)});
  }
  append(path_, first);
  HeldCollect c;
  FileFollower f(nullptr, hub_, nullptr, info(), path_, LogCursor{}, &c, criOptions(4000),
                 LogFileFormat::kCri, logfile::Rotation::kReplace);
  f.start();
  ASSERT_TRUE(c.waitHeld());
  std::string lost;
  for (int i = 0; i < 5; ++i) lost += criLine(LogStream::kStdout, ts, "b" + std::to_string(i));
  replaceWith(lost);  // B
  replaceWith("");    // C, empty for good
  c.release();
  ASSERT_TRUE(zc::testing::waitFor([&] { return c.inner.gapsSeen() >= 1; }, 10s, 10ms));
  f.markContainerStopped();
  EXPECT_TRUE(c.inner.waitEnded());
  f.stop();
  EXPECT_EQ(c.inner.lines, want);
  ASSERT_EQ(c.inner.gaps.size(), 1u);
  EXPECT_EQ(c.inner.gaps[0].after, ts - 6);  // a4's timestamp
  // C has no first line to know it by (its inode alone could be a deleted file's, reused), so
  // the gap's cursor is not put there: every stored cursor names its file by a first line.
  for (const auto& [lineCount, encoded] : c.inner.cursors) {
    auto cursor = LogCursor::decode(encoded);
    ASSERT_TRUE(cursor.isOk()) << cursor.status().toString();
    ASSERT_TRUE(cursor->file.has_value());
    EXPECT_GT(cursor->file->headLen, 0u) << "a cursor after " << lineCount << " lines";
  }
}

// A line whose first piece (`P`) ends the file read before a hole is not joined with the
// record that follows the hole: its other pieces may be among the lines lost. It is stored as
// it is, then the gap, then the lines after the hole.
TEST_F(CriFollowTest, APendingPieceBeforeAHoleIsStoredAsItsOwnLine) {
  TimeNs ts = kBase;
  std::string first = criLine(LogStream::kStdout, ts, "a0");
  first += formatRfc3339Nano(ts++) + " stdout P head\n";
  append(path_, first);
  HeldCollect c;
  FileFollower f(nullptr, hub_, nullptr, info(), path_, LogCursor{}, &c, criOptions(4000),
                 LogFileFormat::kCri, logfile::Rotation::kReplace);
  f.start();
  ASSERT_TRUE(c.waitHeld());
  replaceWith(formatRfc3339Nano(ts++) + " stdout P middle\n");  // B, lost
  std::string after = formatRfc3339Nano(ts++) + " stdout F tail\n";
  after += criLine(LogStream::kStdout, ts, "c1");
  replaceWith(after);  // C
  c.release();
  ASSERT_TRUE(c.inner.waitLines(4));
  f.markContainerStopped();
  EXPECT_TRUE(c.inner.waitEnded());
  f.stop();
  EXPECT_EQ(c.inner.lines, (std::vector<Got>{{LogStream::kStdout, "a0"},
                                             {LogStream::kStdout, "head"},
                                             {LogStream::kStdout, "tail"},
                                             {LogStream::kStdout, "c1"}}));
  ASSERT_EQ(c.inner.gaps.size(), 1u);
  // The gap came with the lines after the hole, not with those before it.
  ASSERT_GE(c.inner.cursors.size(), 2u);
  EXPECT_EQ(c.inner.gapAtLine.front(), 2u);
}

}  // namespace
}  // namespace zc::podman
