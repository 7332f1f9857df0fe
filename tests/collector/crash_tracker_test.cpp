// CrashTracker (collector/src/crash_tracker.h): a death is tracked once (FinishedAt newer than
// the row's lastCrashAt), waits for the dead run's lines and its exit code, takes an oom event
// into account once, and is recorded in the row unless the deployment is being stopped.
#include <gtest/gtest.h>

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
  ASSERT_TRUE(t.begin(dead(200, std::nullopt), row));
  t.noteDie(dead(200, 137));
  CrashTracker::Crash crash = t.take();
  EXPECT_EQ(crash.line, "[CRASH] exit=137 oom=true");
  ASSERT_TRUE(t.begin(dead(300, std::nullopt), row));
  EXPECT_EQ(t.take().line, "[CRASH] exit=-1 oom=false");  // unknown code; the oom was used
}

TEST(CrashTrackerTest, ANewerStateSupersedesThePendingDeath) {
  CrashTracker t;
  Deployment row;
  ASSERT_TRUE(t.begin(dead(200, 3), row));
  EXPECT_FALSE(t.supersededBy(dead(200, 3)));
  EXPECT_TRUE(t.supersededBy(dead(250, 3)));
  plugin::ContainerInfo again = dead(200, 3);
  again.running = true;
  EXPECT_TRUE(t.supersededBy(again));
  EXPECT_TRUE(t.isRun("c0ffee", 100));
  EXPECT_FALSE(t.isRun("c0ffee", 99));
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
