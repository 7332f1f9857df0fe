// ManualClock and the system clock (zc/clock.h).
#include "zc/clock.h"

#include <gtest/gtest.h>

#include <ctime>
#include <thread>
#include <vector>

namespace zc {
namespace {

TEST(ManualClockTest, MovesOnlyWhenTold) {
  ManualClock clock(1'000);
  EXPECT_EQ(clock.now(), 1'000);
  EXPECT_EQ(clock.now(), 1'000);
  clock.advance(500);
  EXPECT_EQ(clock.now(), 1'500);
  clock.set(42);
  EXPECT_EQ(clock.now(), 42);
  clock.advance(-2);
  EXPECT_EQ(clock.now(), 40);
}

TEST(ManualClockTest, WorksThroughTheInterface) {
  ManualClock manual(7 * kNanosPerSecond);
  Clock& clock = manual;
  manual.advance(kNanosPerSecond);
  EXPECT_EQ(clock.now(), 8 * kNanosPerSecond);
}

TEST(ManualClockTest, ConcurrentAdvancesAreNotLost) {
  ManualClock clock(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) clock.advance(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.now(), 40'000);
}

TEST(SystemClockTest, IsTheWallClockInNanoseconds) {
  const TimeNs before = static_cast<TimeNs>(std::time(nullptr)) * kNanosPerSecond;
  const TimeNs now = systemClock().now();
  const TimeNs after = static_cast<TimeNs>(std::time(nullptr) + 1) * kNanosPerSecond;
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
  EXPECT_EQ(&systemClock(), &systemClock());
}

}  // namespace
}  // namespace zc
