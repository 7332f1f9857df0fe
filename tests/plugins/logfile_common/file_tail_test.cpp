#include "file_tail.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tail_test_util.h"
#include "test_support.h"

namespace zc::logfile {
namespace {

using zc::testing::TempDir;
using namespace tailtest;  // NOLINT(google-build-using-namespace): the tests' own helpers

TEST(FileTailTest, FollowsAppendsAndPartialLines) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_TRUE(readAll(t).lines.empty());  // no file yet
  append(p, lines(0, 3) + "line 3 is hal");
  EXPECT_EQ(readAll(t).lines, expected(0, 3));
  append(p, "f done\n");
  EXPECT_EQ(readAll(t).lines, std::vector<std::string>{"line 3 is half done"});
  append(p, lines(4, 6));
  EXPECT_EQ(readAll(t, 1).lines, expected(4, 6));  // a budget of 1 byte: one line per read
}

TEST(FileTailTest, RenameRotationIsFollowedWithoutLoss) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 5));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 5));
  // Written before the rename but not read yet; then two rotations while not reading.
  append(p, lines(5, 8));
  mv(p, p + ".1");
  append(p, lines(8, 10));
  mv(p + ".1", p + ".2");
  mv(p, p + ".1");
  append(p, lines(10, 12));
  Read r = readAll(t);
  EXPECT_EQ(r.lines, expected(5, 12));
  EXPECT_GE(t.rotations(), 1u);
  append(p, lines(12, 13));
  EXPECT_EQ(readAll(t).lines, expected(12, 13));
}

TEST(FileTailTest, RenamedBeforeTheNextFileExistsWaitsForIt) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p + ".1", lines(0, 2));  // an older file
  append(p, lines(2, 4));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 4));
  // The engine renamed the live file away and has not created the next one yet.
  mv(p + ".1", p + ".2");
  append(p, lines(4, 5));
  mv(p, p + ".1");
  EXPECT_EQ(readAll(t).lines, expected(4, 5));
  EXPECT_TRUE(readAll(t).lines.empty());  // still no next file: nothing read again
  append(p, lines(5, 7));
  EXPECT_EQ(readAll(t).lines, expected(5, 7));
}

TEST(FileTailTest, NewerFilesAreHeldOpenWhileBehindSoTheirDeletionLosesNothing) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 60000));  // ~700 KB: several refills of the read buffer
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  std::vector<std::string> got;
  auto readSome = [&](size_t n) {
    size_t want = got.size() + n;
    while (got.size() < want) {
      auto o = t.read(
          [&](std::string_view l, const FilePosition&, const FilePosition&) {
            got.emplace_back(l);
            return got.size() < want;
          },
          1 << 20);
      ASSERT_TRUE(o.isOk());
    }
  };
  readSome(1000);
  // Rotated while the follow is behind: A -> .1, B live.
  mv(p, p + ".1");
  append(p, lines(60000, 60010));
  readSome(30000);  // crosses a refill: B is noticed and held
  // Two more rotations with max-file deleting the oldest: A (still being read), then B, before
  // the follow gets to B.
  rm(p + ".1");
  mv(p, p + ".1");
  rm(p + ".1");
  append(p, lines(60010, 60020));
  Read rest = readAll(t);
  got.insert(got.end(), rest.lines.begin(), rest.lines.end());
  auto want = expected(0, 60020);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(FileTailTest, NewerFilesAreStillHeldAfterTheNewestHeldOneWasDeleted) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 60000));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  std::vector<std::string> got;
  auto readSome = [&](size_t n) {
    size_t want = got.size() + n;
    while (got.size() < want) {
      auto o = t.read(
          [&](std::string_view l, const FilePosition&, const FilePosition&) {
            got.emplace_back(l);
            return got.size() < want;
          },
          1 << 20);
      ASSERT_TRUE(o.isOk());
    }
  };
  readSome(1000);
  mv(p, p + ".1");  // A -> .1, B live
  append(p, lines(60000, 60010));
  readSome(25000);  // a refill: B held
  // A and B deleted (max-file), C rotated to .1, D live: C and D are newer than B.
  rm(p + ".1");
  rm(p);
  append(p, lines(60010, 60020));  // C
  mv(p, p + ".1");
  append(p, lines(60020, 60030));  // D
  readSome(25000);                 // a refill: C and D held
  rm(p + ".1");                    // C deleted too
  Read rest = readAll(t);
  got.insert(got.end(), rest.lines.begin(), rest.lines.end());
  auto want = expected(0, 60030);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(FileTailTest, CompressedRotatedFilesAreReadInOrder) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 4));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  Read first;
  // Read two lines, then the file is rotated and compressed (new inode, plain .1 removed).
  auto o = t.read(
      [&](std::string_view l, const FilePosition&, const FilePosition&) {
        first.lines.emplace_back(l);
        return first.lines.size() < 2;
      },
      1 << 20);
  ASSERT_TRUE(o.isOk());
  FilePosition pos = t.position();
  writeGz(p + ".1.gz", lines(0, 4));
  ::unlink(p.c_str());
  append(p, lines(4, 6));
  // The same tail goes on through its open descriptor...
  EXPECT_EQ(readAll(t).lines, expected(2, 6));
  // ...and a new tail finds the position in the .gz by the file's first line.
  FileTail again(p);
  auto found = again.seek(pos);
  ASSERT_TRUE(found.isOk());
  ASSERT_TRUE(found.value());
  EXPECT_EQ(readAll(again).lines, expected(2, 6));
}

TEST(FileTailTest, OldestFirstAcrossPlainAndGzFiles) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  writeGz(p + ".3.gz", lines(0, 2));
  writeGz(p + ".2.gz", lines(2, 4));
  append(p + ".2", lines(2, 4));  // being compressed: the plain one wins
  append(p + ".1", lines(4, 6));
  append(p, lines(6, 8));
  append(p + ".x", "not part of the set\n");
  append(p + ".01", "not part of the set\n");
  auto files = listLogFiles(p);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_TRUE(files[0].gz);
  EXPECT_FALSE(files[1].gz);
  EXPECT_EQ(files[3].index, 0);
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 8));
}

TEST(FileTailTest, TruncationRestartsAtTheStart) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 5));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 5));
  ASSERT_EQ(::truncate(p.c_str(), 0), 0);
  append(p, lines(100, 102));
  EXPECT_EQ(readAll(t).lines, expected(100, 102));
  EXPECT_EQ(t.truncations(), 1u);
  EXPECT_NE(t.takeWarning(), "");
}

TEST(FileTailTest, TruncatedAndRewrittenLongerIsSeenWhenVerifying) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 2));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 2));
  FilePosition old = t.position();
  {
    std::ofstream f(p, std::ios::trunc | std::ios::binary);  // same inode, longer content
    f << lines(200, 210);
  }
  Read r = readAll(t, 1 << 20, true);
  EXPECT_EQ(r.lines, expected(200, 210));
  // A new tail does not take the old position for the rewritten file.
  FileTail again(p);
  auto found = again.seek(old);
  ASSERT_TRUE(found.isOk());
  EXPECT_FALSE(found.value());
}

TEST(FileTailTest, SeekResumesAtEveryOffset) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 3));
  mv(p, p + ".2");
  append(p, lines(3, 6));
  mv(p, p + ".1");
  append(p, lines(6, 9));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  Read all = readAll(t);
  ASSERT_EQ(all.lines, expected(0, 9));
  for (size_t i = 0; i < all.next.size(); ++i) {
    FileTail again(p);
    auto found = again.seek(all.next[i]);
    ASSERT_TRUE(found.isOk());
    ASSERT_TRUE(found.value()) << i;
    EXPECT_EQ(readAll(again).lines, expected(static_cast<int>(i) + 1, 9)) << i;
  }
}

TEST(FileTailTest, PositionOfARemovedFileIsNotFound) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 3));
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  Read r = readAll(t);
  ::unlink(p.c_str());
  append(p, lines(3, 4));
  FileTail again(p);
  auto found = again.seek(r.next.back());
  ASSERT_TRUE(found.isOk());
  EXPECT_FALSE(found.value());
}

TEST(FileTailTest, RoomGrownForABacklogIsGivenBackButALongPendingLineIsNotCopiedAtEachWake) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 40'000));  // a backlog: reads grow to their largest
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines.size(), 40'000u);
  EXPECT_LE(t.bufferCapacity(), 64u * 1024);  // caught up: the grown room was given back
  // Partial lines longer than the room kept: once the buffer holds one (and the room for the
  // next read), idle reads leave it as it is (no allocation, no copy).
  for (size_t pending : {100'000u, 1'000'000u}) {
    append(p, std::string(pending, 'p'));
    EXPECT_TRUE(readAll(t).lines.empty());
    const size_t settled = t.bufferCapacity();
    const uint64_t reallocations = t.bufferReallocations();
    EXPECT_GE(settled, pending);
    EXPECT_LE(settled, pending + 64 * 1024);
    for (int i = 0; i < 5; ++i) {
      EXPECT_TRUE(readAll(t).lines.empty());
      EXPECT_EQ(t.bufferCapacity(), settled) << pending;
      EXPECT_EQ(t.bufferReallocations(), reallocations) << pending;
    }
    append(p, "\n");
    auto r = readAll(t);
    ASSERT_EQ(r.lines.size(), 1u);
    EXPECT_EQ(r.lines[0], std::string(pending, 'p'));
  }
}

TEST(FileTailTest, OverlongLinesAreHandedOutInPieces) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, std::string(3000, 'x') + "\nshort\n");
  FileTail t(p, 1024);
  ASSERT_TRUE(t.seekOldest().isOk());
  Read r = readAll(t);
  ASSERT_EQ(r.lines.size(), 4u);
  EXPECT_EQ(r.lines[0].size(), 1024u);
  EXPECT_EQ(r.lines[2].size(), 3000u - 2048u);
  EXPECT_EQ(r.lines[3], "short");
}

}  // namespace
}  // namespace zc::logfile
