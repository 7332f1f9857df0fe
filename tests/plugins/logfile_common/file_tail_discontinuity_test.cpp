// FileTail across holes: files deleted or replaced before the tail read them are reported as a
// discontinuity (never skipped in silence), and a file's successor is never taken from a listing
// that is incomplete or caught in the middle of a rotation.
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

#include "file_tail.h"
#include "tail_test_util.h"
#include "test_support.h"

namespace zc::logfile {
namespace {

using zc::testing::TempDir;
using namespace tailtest;  // NOLINT(google-build-using-namespace): the tests' own helpers

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
  rm(p);
  append(p, lines(10, 20));
  rm(p);
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
    mv(p + ".tmp", p);
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
  mv(q + ".tmp", q);
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
    mv(p + ".tmp", p);
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
  mv(p, p + ".1");
  EXPECT_EQ(readAll(t).lines, expected(0, 4));  // A to its end, waiting for the next file
  mv(p + ".1", p + ".3");
  append(p, lines(4, 6));                 // B live: .3 and live, a hole
  EXPECT_TRUE(readAll(t).lines.empty());  // the hole is seen, the tail waits
  rm(p);
  mv(p + ".3", p + ".1");  // only A, as .1: no hole
  EXPECT_TRUE(readAll(t).lines.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  mv(p + ".1", p + ".3");
  append(p, lines(6, 8));                 // a new hole
  EXPECT_TRUE(readAll(t).lines.empty());  // waited for, not passed at once
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
  mv(p, p + ".1");                              // A -> .1, no live file yet
  EXPECT_EQ(readAll(t).lines, expected(3, 5));  // A to its end, then waits
  EXPECT_FALSE(t.takeDiscontinuity());
  append(p, lines(5, 10));   // B
  rm(p + ".1");              // A deleted
  mv(p, p + ".1");           // B -> .1
  append(p, lines(10, 15));  // C
  rm(p + ".1");              // B deleted unread
  mv(p, p + ".1");           // C -> .1
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
  mv(p, p + ".1");
  EXPECT_EQ(readAll(t).lines, expected(0, 3));
  append(p, lines(3, 8));  // B
  mv(p + ".1", p + ".2");
  mv(p, p + ".1");
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
  mv(p, p + ".1");         // A -> .1
  append(p, lines(6, 8));  // B live
  mv(p + ".1", p + ".2");  // A -> .2: the hole
  int listings = 0;
  t.setAfterListingForTest([&] {
    if (++listings != 1) return;
    mv(p, p + ".1");          // B -> .1
    append(p, lines(8, 10));  // C live
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
  mv(p, p + ".1");                              // A -> .1, no live file yet
  EXPECT_EQ(readAll(t).lines, expected(0, 4));  // A to its end, then waits
  append(p, lines(4, 6));                       // B live
  mv(p + ".1", p + ".2");                       // A -> .2: the hole
  int listings = 0;
  t.setAfterListingForTest([&] {
    if (++listings != 1) return;
    mv(p, p + ".1");         // B -> .1
    append(p, lines(6, 8));  // C live
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
  mv(p, p + ".1");
  EXPECT_EQ(readAll(t).lines, expected(0, 4));
  append(p, lines(4, 6));         // B: lines 4-5 removed below
  mv(p + ".1", p + ".3");         // A
  mv(p, p + ".2");                // B
  append(p + ".1", lines(6, 8));  // C
  rm(p + ".2");                   // B removed: .3, .1
  append(p, lines(8, 10));        // D live
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

}  // namespace
}  // namespace zc::logfile
