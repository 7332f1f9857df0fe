// PeriodicTask (collector/src/periodic_task.h): first run at start or after one interval, then
// every interval; stop() is prompt during a wait and waits for a run in progress; runs never
// overlap; wake() brings a run forward; pause() inside a run ends at stop(); a run that throws
// does not end the schedule. Short intervals, bounded waits.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "periodic_task.h"
#include "test_support.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

TEST(PeriodicTaskTest, TheFirstRunIsAtStart) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1h, [&] { runs.fetch_add(1); });
  task.start();
  EXPECT_TRUE(zc::testing::waitFor([&] { return runs.load() == 1; }, 5s, 1ms));
  task.stop();
}

TEST(PeriodicTaskTest, RunsEveryInterval) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 50ms, [&] { runs.fetch_add(1); });
  auto t0 = Steady::now();
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() >= 4; }, 5s, 1ms));
  // Four runs need at least three intervals.
  EXPECT_GE(Steady::now() - t0, 150ms);
  task.stop();
}

TEST(PeriodicTaskTest, FirstRunAfterOneIntervalWhenAsked) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 200ms, [&] { runs.fetch_add(1); }, PeriodicTask::FirstRun::kAfterInterval);
  auto t0 = Steady::now();
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() >= 1; }, 5s, 1ms));
  EXPECT_GE(Steady::now() - t0, 200ms);
  task.stop();
}

TEST(PeriodicTaskTest, StopDuringALongIntervalIsPrompt) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1h, [&] { runs.fetch_add(1); });
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() == 1; }, 2s, 1ms));
  auto t0 = Steady::now();
  task.stop();
  EXPECT_LT(Steady::now() - t0, 500ms);
  EXPECT_EQ(runs.load(), 1);
}

TEST(PeriodicTaskTest, StopBeforeTheFirstDelayedRunRunsNothing) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1h, [&] { runs.fetch_add(1); }, PeriodicTask::FirstRun::kAfterInterval);
  task.start();
  auto t0 = Steady::now();
  task.stop();
  EXPECT_LT(Steady::now() - t0, 500ms);
  EXPECT_EQ(runs.load(), 0);
}

TEST(PeriodicTaskTest, StopWaitsForTheRunInProgress) {
  std::atomic<bool> inRun{false};
  std::atomic<bool> finished{false};
  PeriodicTask task("test", 1h, [&] {
    inRun = true;
    std::this_thread::sleep_for(150ms);
    finished = true;
  });
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return inRun.load(); }, 2s, 1ms));
  task.stop();
  EXPECT_TRUE(finished.load());
}

TEST(PeriodicTaskTest, RunsNeverOverlapAndTheIntervalFollowsTheEndOfARun) {
  std::atomic<int> inside{0};
  std::atomic<int> maxInside{0};
  std::atomic<int> runs{0};
  // Each run takes longer than the interval.
  PeriodicTask task("test", 5ms, [&] {
    int now = inside.fetch_add(1) + 1;
    int seen = maxInside.load();
    while (now > seen && !maxInside.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(20ms);
    inside.fetch_sub(1);
    runs.fetch_add(1);
  });
  auto t0 = Steady::now();
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() >= 5; }, 5s, 1ms));
  task.stop();
  EXPECT_EQ(maxInside.load(), 1);
  // Five runs of 20 ms and four waits of 5 ms, one after another.
  EXPECT_GE(Steady::now() - t0, 120ms);
}

TEST(PeriodicTaskTest, WakeRunsBeforeTheIntervalIsOver) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 1h, [&] { runs.fetch_add(1); }, PeriodicTask::FirstRun::kAfterInterval);
  task.start();
  task.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() == 1; }, 2s, 1ms));
  task.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return runs.load() == 2; }, 2s, 1ms));
  task.stop();
  EXPECT_EQ(runs.load(), 2);
}

TEST(PeriodicTaskTest, APauseInsideARunEndsAtStop) {
  std::atomic<bool> inRun{false};
  std::atomic<bool> paused{true};
  PeriodicTask* self = nullptr;
  PeriodicTask task("test", 1h, [&] {
    inRun = true;
    paused = self->pause(1h);
  });
  self = &task;
  task.start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return inRun.load(); }, 2s, 1ms));
  auto t0 = Steady::now();
  task.stop();
  EXPECT_LT(Steady::now() - t0, 500ms);
  EXPECT_FALSE(paused.load());
  EXPECT_TRUE(task.stopping());
}

TEST(PeriodicTaskTest, ARunThatThrowsDoesNotEndTheSchedule) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", 5ms, [&] {
    runs.fetch_add(1);
    throw std::runtime_error("boom");
  });
  task.start();
  EXPECT_TRUE(zc::testing::waitFor([&] { return runs.load() >= 3; }, 5s, 1ms));
  task.stop();
}

TEST(PeriodicTaskTest, StopWithoutStartAndTwiceIsHarmless) {
  PeriodicTask task("test", 5ms, [] {});
  task.stop();
  task.stop();
}

}  // namespace
}  // namespace zc::collector
