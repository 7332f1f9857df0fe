// CrashTracker (collector/src/crash_tracker.h): a death is tracked once (FinishedAt newer than
// the row's lastCrashAt), waits for the dead run's lines and its exit code, takes an oom event
// into account once, and is recorded in the row unless the deployment is being stopped; deaths
// of a crash loop that arrive faster than they are looked at keep each its own exit code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crash_tracker.h"

namespace zc::collector {
namespace {

plugin::ContainerInfo dead(TimeNs finishedAt, std::optional<int> exitCode) {
  plugin::ContainerInfo c;
  c.deploymentId = "dep-1";
  c.containerId = "c0ffee";
  c.startedAt = 100;
  c.finishedAt = finishedAt;
  c.exitCode = exitCode;
  return c;
}

TEST(CrashTrackerTest, ADeathIsTrackedOnceAndNotWhenAlreadyRecorded) {
  CrashTracker t;
  Deployment row;
  row.status = DeploymentStatus::kRunning;
  EXPECT_TRUE(t.begin(dead(200, 3), row));
  EXPECT_FALSE(t.begin(dead(200, 3), row));  // already pending
  CrashTracker::Crash crash = t.take();
  EXPECT_FALSE(t.pending());
  EXPECT_EQ(crash.line, "[CRASH] exit=3 oom=false");
  ASSERT_TRUE(CrashTracker::record(row, crash));
  EXPECT_EQ(row.status, DeploymentStatus::kCrashed);
  EXPECT_EQ(row.lastExitCode, 3);
  EXPECT_EQ(row.lastCrashAt, 200);
  EXPECT_FALSE(t.begin(dead(200, 3), row));  // this death is on record
  EXPECT_TRUE(t.begin(dead(300, 1), row));   // a newer one is not
}

TEST(CrashTrackerTest, AStoppedDeploymentRecordsNoCrash) {
  CrashTracker t;
  Deployment row;
  row.status = DeploymentStatus::kStopped;
  ASSERT_TRUE(t.begin(dead(200, 137), row));
  EXPECT_FALSE(CrashTracker::record(row, t.take()));
  EXPECT_EQ(row.status, DeploymentStatus::kStopped);
  EXPECT_FALSE(row.lastCrashAt.has_value());
}

TEST(CrashTrackerTest, TheDieEventCompletesTheExitCodeAndAnOomEventCountsOnce) {
  CrashTracker t;
  Deployment row;
  t.noteOom("c0ffee");
  plugin::ContainerInfo back = dead(200, std::nullopt);
  back.running = true;  // found by an inspect after it ran again: no exit code
  ASSERT_TRUE(t.begin(back, row));
  EXPECT_FALSE(t.noteDie(back, 210, 137, row));  // the same death, now with its code
  CrashTracker::Crash crash = t.take();
  EXPECT_EQ(crash.line, "[CRASH] exit=137 oom=true");
  ASSERT_TRUE(CrashTracker::record(row, crash));
  plugin::ContainerInfo later = dead(300, std::nullopt);
  later.running = true;
  ASSERT_TRUE(t.begin(later, row));
  EXPECT_EQ(t.take().line, "[CRASH] exit=-1 oom=false");  // unknown code; the oom was used
}

TEST(CrashTrackerTest, DeathsFasterThanTheyAreLookedAtAreEachRecordedWithTheirOwnCode) {
  // A crash loop: four runs die with 1, 2, 3, 4; by the time each die event is looked at, the
  // container has already run and died again, and a follow's end found a later death first.
  CrashTracker t;
  Deployment row;
  row.status = DeploymentStatus::kRunning;
  const TimeNs kSec = 1'000'000'000;
  auto state = [&](TimeNs finished, int code) {
    plugin::ContainerInfo c = dead(finished, code);
    c.startedAt = finished - kSec / 10;
    return c;
  };
  // die events at 10.01 s, 10.31 s, 10.71 s, 11.51 s; deaths at 10.0, 10.3, 10.7, 11.5 s.
  ASSERT_TRUE(t.noteDie(state(10 * kSec + 3 * kSec / 10, 2), 10 * kSec + kSec / 100, 1, row));
  ASSERT_TRUE(t.begin(state(10 * kSec + 3 * kSec / 10, 2), row));  // a follow's end saw death 2
  EXPECT_FALSE(t.noteDie(state(10 * kSec + 7 * kSec / 10, 3), 10 * kSec + 31 * kSec / 100, 2, row));
  ASSERT_TRUE(t.noteDie(state(11 * kSec + 5 * kSec / 10, 4), 10 * kSec + 71 * kSec / 100, 3, row));
  ASSERT_TRUE(t.noteDie(state(11 * kSec + 5 * kSec / 10, 4), 11 * kSec + 51 * kSec / 100, 4, row));
  std::vector<std::string> lines;
  TimeNs last = 0;
  while (t.pending()) {
    CrashTracker::Crash c = t.take();
    EXPECT_GT(*c.container.finishedAt, last);
    last = *c.container.finishedAt;
    EXPECT_TRUE(CrashTracker::record(row, c));
    lines.push_back(c.line);
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"[CRASH] exit=1 oom=false", "[CRASH] exit=2 oom=false",
                                             "[CRASH] exit=3 oom=false", "[CRASH] exit=4 oom=false"}));
  EXPECT_EQ(row.lastExitCode, 4);
  EXPECT_EQ(row.lastCrashAt, 11 * kSec + 5 * kSec / 10);
  // Seen again by a reconcile: on record, nothing new.
  EXPECT_FALSE(t.begin(state(11 * kSec + 5 * kSec / 10, 4), row));
}

TEST(CrashTrackerTest, TheEndOfARunsFollowMatchesItsDeath) {
  CrashTracker t;
  Deployment row;
  ASSERT_TRUE(t.begin(dead(200, 3), row));
  EXPECT_TRUE(t.isRun("c0ffee", 100));
  EXPECT_FALSE(t.isRun("c0ffee", 99));
  EXPECT_FALSE(t.isRun("other", 100));
}

TEST(CrashTrackerTest, ReadyWithoutAFollowOnceTheExitCodeIsKnown) {
  CrashTracker t;
  Deployment row;
  ASSERT_TRUE(t.begin(dead(200, 3), row));
  EXPECT_TRUE(t.ready(nullptr));
  CrashTracker u;
  plugin::ContainerInfo back = dead(200, std::nullopt);
  back.running = true;
  ASSERT_TRUE(u.begin(back, row));
  EXPECT_FALSE(u.ready(nullptr));  // waits for the die event (up to kSettle)
}

}  // namespace
}  // namespace zc::collector
