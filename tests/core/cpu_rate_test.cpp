// CpuRateTracker: CPU % from one cumulative reading per request, as `docker stats` computes it,
// with no figure (rather than a wrong one) when there is no usable previous reading.
#include "zc/cpu_rate.h"

#include <gtest/gtest.h>

namespace zc {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

// A reading at `t` seconds: the container has used `cpuMs` ms, the host's counter is at `sysSec`.
CpuReading reading(int t, uint64_t cpuMs, uint64_t sysSec, uint32_t cpus = 2) {
  return CpuReading{t * kNanosPerSecond, cpuMs * 1'000'000, sysSec * kSec, cpus};
}

TEST(CpuRateTest, RateLikeDockerStats) {
  // 0.5 s of CPU over 2 s of system time (both CPUs together) on 2 CPUs = 50 % of one core.
  EXPECT_DOUBLE_EQ(cpuRate(reading(0, 1000, 10), reading(1, 1500, 12)).value(), 50.0);
  // online_cpus unknown counts as one CPU.
  EXPECT_DOUBLE_EQ(cpuRate(reading(0, 1000, 10, 0), reading(1, 1500, 12, 0)).value(), 25.0);
  // An idle container is a measured 0, not an unknown.
  EXPECT_DOUBLE_EQ(cpuRate(reading(0, 1000, 10), reading(1, 1000, 12)).value(), 0.0);
}

TEST(CpuRateTest, NoFigureWithoutAUsableBaseline) {
  EXPECT_FALSE(cpuRate(reading(1, 1500, 12), reading(2, 100, 14)));   // restarted: CPU from 0
  EXPECT_FALSE(cpuRate(reading(1, 1500, 12), reading(1, 1500, 12)));  // the same tick
  EXPECT_FALSE(cpuRate(CpuReading{}, reading(1, 1500, 12)));          // empty (not running)
  EXPECT_FALSE(cpuRate(reading(1, 1500, 12), CpuReading{}));
}

TEST(CpuRateTest, ClampedToWhatTheCpusCanDo) {
  // Counters read at slightly different moments: never above online CPUs x 100.
  EXPECT_DOUBLE_EQ(cpuRate(reading(0, 0, 10), reading(1, 10'000, 11)).value(), 200.0);
}

TEST(CpuRateTest, TrackerKeepsThePreviousReadingPerContainer) {
  CpuRateTracker t;
  EXPECT_FALSE(t.update("a", reading(0, 1000, 10)));  // first reading: no figure
  EXPECT_FALSE(t.update("b", reading(0, 0, 10)));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t.update("a", reading(1, 1500, 12)).value(), 50.0);
  EXPECT_DOUBLE_EQ(t.update("a", reading(2, 3500, 14)).value(), 200.0);  // from the last one
  EXPECT_DOUBLE_EQ(t.update("b", reading(2, 1000, 14)).value(), 50.0);   // b's own baseline
}

TEST(CpuRateTest, RestartStartsANewBaselineWithoutANegativeFigure) {
  CpuRateTracker t;
  t.update("a", reading(0, 5000, 10));
  EXPECT_FALSE(t.update("a", reading(1, 200, 12)));                    // restarted
  EXPECT_DOUBLE_EQ(t.update("a", reading(2, 700, 14)).value(), 50.0);  // measured from 200
}

TEST(CpuRateTest, SameTickKeepsTheOlderBaseline) {
  CpuRateTracker t;
  t.update("a", reading(0, 1000, 10));
  EXPECT_FALSE(t.update("a", reading(0, 1000, 10)));
  EXPECT_DOUBLE_EQ(t.update("a", reading(1, 1500, 12)).value(), 50.0);
}

TEST(CpuRateTest, EmptyReadingIsNotKept) {
  CpuRateTracker t;
  EXPECT_FALSE(t.update("a", CpuReading{}));
  EXPECT_EQ(t.size(), 0u);
  t.update("a", reading(0, 1000, 10));
  EXPECT_FALSE(t.update("a", CpuReading{}));  // stopped between two passes
  EXPECT_DOUBLE_EQ(t.update("a", reading(1, 1500, 12)).value(), 50.0);
}

TEST(CpuRateTest, ForgetDropsTheContainer) {
  CpuRateTracker t;
  t.update("a", reading(0, 1000, 10));
  t.update("b", reading(0, 1000, 10));
  t.forget("a");
  t.forget("unknown");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_FALSE(t.update("a", reading(1, 1500, 12)));  // a new first reading
}

}  // namespace
}  // namespace zc
