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

#include "test_support.h"

namespace zc::logfile {
namespace {

using zc::testing::TempDir;

void append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

void writeGz(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
}

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

struct Read {
  std::vector<std::string> lines;
  std::vector<FilePosition> next;
};

// Reads until the tail is idle.
Read readAll(FileTail& t, size_t budget = 1 << 20, bool verify = false) {
  Read r;
  while (true) {
    auto o = t.read(
        [&](std::string_view l, const FilePosition&, const FilePosition& n) {
          r.lines.emplace_back(l);
          r.next.push_back(n);
          return true;
        },
        budget, verify);
    EXPECT_TRUE(o.isOk()) << o.status().toString();
    if (!o.isOk() || o.value() == FileTail::ReadOutcome::kIdle) return r;
  }
}

std::vector<std::string> expected(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

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
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  append(p, lines(8, 10));
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".2").c_str()), 0);
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
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
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".2").c_str()), 0);
  append(p, lines(4, 5));
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
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
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  append(p, lines(60000, 60010));
  readSome(30000);  // crosses a refill: B is noticed and held
  // Two more rotations with max-file deleting the oldest: A (still being read), then B, before
  // the follow gets to B.
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);
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
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // A -> .1, B live
  append(p, lines(60000, 60010));
  readSome(25000);  // a refill: B held
  // A and B deleted (max-file), C rotated to .1, D live: C and D are newer than B.
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);
  ASSERT_EQ(::unlink(p.c_str()), 0);
  append(p, lines(60010, 60020));  // C
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  append(p, lines(60020, 60030));  // D
  readSome(25000);  // a refill: C and D held
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);  // C deleted too
  Read rest = readAll(t);
  got.insert(got.end(), rest.lines.begin(), rest.lines.end());
  auto want = expected(0, 60030);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << i;
}

TEST(FileTailTest, FilesDeletedBeforeTheyWereHeldAreADiscontinuity) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 10));  // A, all in the read buffer at once
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  std::vector<std::string> got;
  auto o = t.read(
      [&](std::string_view l, const FilePosition&, const FilePosition&) {
        got.emplace_back(l);
        return got.size() < 2;
      },
      1 << 20);
  ASSERT_TRUE(o.isOk());
  // While the follow is away: A rotated and deleted, B written, rotated and deleted, C live.
  ASSERT_EQ(::unlink(p.c_str()), 0);
  append(p, lines(10, 20));
  ASSERT_EQ(::unlink(p.c_str()), 0);
  append(p, lines(20, 25));
  EXPECT_FALSE(t.takeDiscontinuity());
  Read rest = readAll(t);
  got.insert(got.end(), rest.lines.begin(), rest.lines.end());
  std::vector<std::string> want = expected(0, 10);
  for (auto& l : expected(20, 25)) want.push_back(l);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(t.takeDiscontinuity());
  EXPECT_FALSE(t.takeDiscontinuity());
}

// Podman's rotation (Rotation::kReplace): a new file renamed over the live path, no backups. The
// replaced file is never listed again, which here is the normal case: every line once, in
// order, and no discontinuity, whether the follow was inside the old file or had finished it.
TEST(FileTailTest, AReplacedFileIsFollowedByItsReplacementWithoutADiscontinuity) {
  TempDir dir;
  std::string p = dir.path() + "/ctr.log";
  append(p, lines(0, 10));  // A
  FileTail t(p, 8 << 20, Rotation::kReplace);
  ASSERT_TRUE(t.seekOldest().isOk());
  std::vector<std::string> got;
  auto o = t.read(
      [&](std::string_view l, const FilePosition&, const FilePosition&) {
        got.emplace_back(l);
        return got.size() < 2;
      },
      1 << 20);
  ASSERT_TRUE(o.isOk());
  auto replace = [&](const std::string& text) {
    append(p + ".tmp", text);
    ASSERT_EQ(::rename((p + ".tmp").c_str(), p.c_str()), 0);
  };
  replace(lines(10, 20));  // B over A while A is half read
  Read rest = readAll(t);
  got.insert(got.end(), rest.lines.begin(), rest.lines.end());
  EXPECT_EQ(got, expected(0, 20));
  EXPECT_FALSE(t.takeDiscontinuity());
  replace(lines(20, 25));  // C over B, B read to its end already
  EXPECT_EQ(readAll(t).lines, expected(20, 25));
  EXPECT_FALSE(t.takeDiscontinuity());
  EXPECT_GE(t.rotations(), 2u);

  // The same two replacements under the rename rule: a file read to its end that is not listed
  // any more was deleted, so lines between may be gone.
  TempDir dir2;
  std::string q = dir2.path() + "/c-json.log";
  append(q, lines(0, 5));
  FileTail r(q);
  ASSERT_TRUE(r.seekOldest().isOk());
  EXPECT_EQ(readAll(r).lines, expected(0, 5));
  append(q + ".tmp", lines(5, 10));
  ASSERT_EQ(::rename((q + ".tmp").c_str(), q.c_str()), 0);
  EXPECT_EQ(readAll(r).lines, expected(5, 10));
  EXPECT_TRUE(r.takeDiscontinuity());
}

// Podman's max-size replacing the file twice between two looks of the tail: the file in
// between (B) was never opened and is gone, and nothing in the listing says it was there. The
// count of files created at the path (TailHub::createdCount(); here the test counts its own
// creations, so every step is deterministic) does: going on from A to C, two creations later,
// is a discontinuity; one replacement between two looks, or two while the tail holds each
// file, are not.
TEST(FileTailTest, AFileReplacedTwiceBetweenTwoLooksIsADiscontinuity) {
  TempDir dir;
  std::string p = dir.path() + "/ctr.log";
  uint64_t created = 0;
  auto replace = [&](const std::string& text) {
    append(p + ".tmp", text);
    ASSERT_EQ(::rename((p + ".tmp").c_str(), p.c_str()), 0);
    ++created;
  };
  append(p, lines(0, 10));  // A
  created = 1;
  FileTail t(p, 8 << 20, Rotation::kReplace);
  t.setCreationCounter([&]() -> std::optional<uint64_t> { return created; });
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 10));
  replace(lines(10, 20));  // B over A: the tail looks once in between
  EXPECT_EQ(readAll(t).lines, expected(10, 20));
  EXPECT_FALSE(t.takeDiscontinuity());
  replace(lines(20, 30));  // C over B
  replace(lines(30, 35));  // D over C, C never opened
  EXPECT_EQ(readAll(t).lines, expected(30, 35));
  EXPECT_TRUE(t.takeDiscontinuity());
  EXPECT_FALSE(t.takeDiscontinuity());
  // Replaced while the tail is inside a file: it holds the new one at its next refill, so
  // nothing is skipped and there is no discontinuity.
  replace(lines(35, 45));  // E
  std::vector<std::string> got;
  int calls = 0;
  auto r = t.read(
      [&](std::string_view l, const FilePosition&, const FilePosition&) {
        got.emplace_back(l);
        if (++calls == 2) replace(lines(45, 50));  // F over E while E is half read
        return calls != 4;
      },
      1 << 20);
  ASSERT_TRUE(r.isOk());
  Read more = readAll(t, 1 << 20);
  got.insert(got.end(), more.lines.begin(), more.lines.end());
  EXPECT_EQ(got, expected(35, 50));
  EXPECT_FALSE(t.takeDiscontinuity());

  // A counter that cannot count (the hub has no inotify): every replacement may have skipped a
  // file, so each one is a discontinuity (a possible loss rather than silence).
  FileTail unsure(p, 8 << 20, Rotation::kReplace);
  unsure.setCreationCounter([]() -> std::optional<uint64_t> { return std::nullopt; });
  ASSERT_TRUE(unsure.seekOldest().isOk());
  EXPECT_EQ(readAll(unsure).lines, expected(45, 50));
  EXPECT_FALSE(unsure.takeDiscontinuity());
  replace(lines(50, 55));
  EXPECT_EQ(readAll(unsure).lines, expected(50, 55));
  EXPECT_TRUE(unsure.takeDiscontinuity());

  // No counter at all: two replacements go unseen (Rotation::kReplace's documented limit).
  FileTail blind(p, 8 << 20, Rotation::kReplace);
  ASSERT_TRUE(blind.seekOldest().isOk());
  EXPECT_EQ(readAll(blind).lines, expected(50, 55));
  replace(lines(55, 60));
  replace(lines(60, 65));
  EXPECT_EQ(readAll(blind).lines, expected(60, 65));
  EXPECT_FALSE(blind.takeDiscontinuity());
}

// A hole waits kHoleWait (2 s) from when it is first seen at every look: a hole seen once, then
// a listing without it, does not make a later hole pass at once.
TEST(FileTailTest, AHoleThatWentAwayDoesNotCountForTheNextOne) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 4));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  EXPECT_EQ(readAll(t).lines, expected(0, 4));  // A to its end, waiting for the next file
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".3").c_str()), 0);
  append(p, lines(4, 6));                       // B live: .3 and live, a hole
  EXPECT_TRUE(readAll(t).lines.empty());        // the hole is seen, the tail waits
  ASSERT_EQ(::unlink(p.c_str()), 0);
  ASSERT_EQ(::rename((p + ".3").c_str(), (p + ".1").c_str()), 0);  // only A, as .1: no hole
  EXPECT_TRUE(readAll(t).lines.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".3").c_str()), 0);
  append(p, lines(6, 8));                       // a new hole
  EXPECT_TRUE(readAll(t).lines.empty());        // waited for, not passed at once
  EXPECT_FALSE(t.takeDiscontinuity());
}

// Docker's rotation step by step (max-file=2): remove `.1`, rename live -> `.1`, create live.
// The follow finished A between the rename and the create (nothing newer to hold yet) and went
// idle; then, before it ran again, the engine rotated twice more, so A and its successor B were
// deleted unread (B) and C is the oldest file left.
TEST(FileTailTest, FilesDeletedWhileWaitingForTheNextFileAreADiscontinuity) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 3));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 3));
  append(p, lines(3, 5));
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // A -> .1, no live file yet
  EXPECT_EQ(readAll(t).lines, expected(3, 5));              // A to its end, then waits
  EXPECT_FALSE(t.takeDiscontinuity());
  append(p, lines(5, 10));  // B
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);               // A deleted
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // B -> .1
  append(p, lines(10, 15));  // C
  ASSERT_EQ(::unlink((p + ".1").c_str()), 0);               // B deleted unread
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // C -> .1
  append(p, lines(15, 20));  // D
  EXPECT_EQ(readAll(t).lines, expected(10, 20));
  EXPECT_TRUE(t.takeDiscontinuity());
}

// The same wait, but the engine rotated only once meanwhile: A is still there, and what follows
// it is its successor, so nothing is reported.
TEST(FileTailTest, WaitingForTheNextFileThenOneRotationIsContinuous) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 3));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  EXPECT_EQ(readAll(t).lines, expected(0, 3));
  append(p, lines(3, 8));  // B
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".2").c_str()), 0);
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  append(p, lines(8, 10));  // C
  EXPECT_EQ(readAll(t).lines, expected(3, 10));
  EXPECT_FALSE(t.takeDiscontinuity());
}

// The files listed between two renames of one rotation (max-file=3: `.1` -> `.2` done,
// live -> `.1` not yet): `.2` (A, being read) and the live name (B) with no `.1` between. The
// rotation then completes before the tail opens the live name, which is now C: taking C for
// A's successor would skip B without a word. The tail must see the hole and look again.
TEST(FileTailTest, AListingTakenMidRotationIsNotTakenForTheOrderOfTheFiles) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 4));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  EXPECT_EQ(readAll(t).lines, expected(0, 4));
  append(p, lines(4, 6));
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // A -> .1
  append(p, lines(6, 8));                                   // B live
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".2").c_str()), 0);  // A -> .2: the hole
  int listings = 0;
  t.setAfterListingForTest([&] {
    if (++listings != 1) return;
    ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // B -> .1
    append(p, lines(8, 10));                                  // C live
  });
  EXPECT_EQ(readAll(t).lines, expected(4, 10));
  EXPECT_FALSE(t.takeDiscontinuity());
  EXPECT_GE(listings, 1);
}

// The same window when the tail looks for the next file only after finishing one (nothing
// held): A read to its end as `.2`, B live with no `.1` in the listing, then B -> `.1` and C
// created before B is opened.
TEST(FileTailTest, TheNextFileIsNotTakenFromAListingWithAHole) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 4));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // A -> .1, no live file yet
  EXPECT_EQ(readAll(t).lines, expected(0, 4));              // A to its end, then waits
  append(p, lines(4, 6));                                   // B live
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".2").c_str()), 0);  // A -> .2: the hole
  int listings = 0;
  t.setAfterListingForTest([&] {
    if (++listings != 1) return;
    ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // B -> .1
    append(p, lines(6, 8));                                   // C live
  });
  EXPECT_EQ(readAll(t).lines, expected(4, 8));
  EXPECT_FALSE(t.takeDiscontinuity());
}

// A hole that stays (a rotated file removed by hand) does not stop the follow for good: after
// a while the tail goes on past it and reports a discontinuity.
TEST(FileTailTest, AHoleThatStaysIsPassedAsADiscontinuity) {
  TempDir dir;
  std::string p = dir.path() + "/c-json.log";
  append(p, lines(0, 4));  // A
  FileTail t(p);
  ASSERT_TRUE(t.seekOldest().isOk());
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
  EXPECT_EQ(readAll(t).lines, expected(0, 4));
  append(p, lines(4, 6));                                   // B: lines 4-5 removed below
  ASSERT_EQ(::rename((p + ".1").c_str(), (p + ".3").c_str()), 0);  // A
  ASSERT_EQ(::rename(p.c_str(), (p + ".2").c_str()), 0);           // B
  append(p + ".1", lines(6, 8));                                   // C
  ASSERT_EQ(::unlink((p + ".2").c_str()), 0);                      // B removed: .3, .1
  append(p, lines(8, 10));                                         // D live
  EXPECT_TRUE(readAll(t).lines.empty());
  std::vector<std::string> got;
  for (int i = 0; i < 60 && got.size() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Read r = readAll(t);
    got.insert(got.end(), r.lines.begin(), r.lines.end());
  }
  EXPECT_EQ(got, expected(6, 10));
  EXPECT_TRUE(t.takeDiscontinuity());
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
  ASSERT_EQ(::rename(p.c_str(), (p + ".2").c_str()), 0);
  append(p, lines(3, 6));
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);
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
