// The decision both follow shapes (LoopFollower, LogFollower) make after a log stream ended.
#include "stream_end_decision.h"

#include <gtest/gtest.h>

namespace zc::docker {
namespace {

using namespace std::chrono_literals;
using K = StreamEndKind;
using S = InspectedState;
using A = AfterStreamEnd;

StreamEndDecision decide(K how, bool productive, S state, bool drained = false,
                         std::chrono::milliseconds stall = 5000ms) {
  return decideAfterStreamEnd(how, productive, state, drained, stall, 5000ms, 60000ms);
}

TEST(StreamEndDecisionTest, GoneEndsAndAFailedInspectRetries) {
  for (K how : {K::kClean, K::kBroken, K::kStalled}) {
    EXPECT_EQ(decide(how, true, S::kGone).next, A::kGone);
    EXPECT_EQ(decide(how, false, S::kUnknown).next, A::kRetry);
  }
}

TEST(StreamEndDecisionTest, AStoppedContainerIsReadOnceMoreAfterTheGrace) {
  // First end of a stopped container's stream: wait the grace, read again.
  EXPECT_EQ(decide(K::kClean, true, S::kNotRunning).next, A::kGrace);
  EXPECT_EQ(decide(K::kClean, false, S::kNotRunning).next, A::kGrace);
  // Drained but that read brought lines: once more.
  EXPECT_EQ(decide(K::kClean, true, S::kNotRunning, true).next, A::kGrace);
  // Drained and nothing new: done.
  EXPECT_EQ(decide(K::kClean, false, S::kNotRunning, true).next, A::kDone);
  // A broken or stalled stream of a stopped container is reopened, not finished.
  EXPECT_EQ(decide(K::kBroken, false, S::kNotRunning, true).next, A::kBackoff);
  EXPECT_EQ(decide(K::kStalled, false, S::kNotRunning, true).next, A::kReopen);
}

TEST(StreamEndDecisionTest, RunningClearsDrained) {
  EXPECT_FALSE(decide(K::kClean, false, S::kRunning, true).drained);
  EXPECT_TRUE(decide(K::kBroken, false, S::kNotRunning, true).drained);
}

TEST(StreamEndDecisionTest, ReopenAtOnceAfterLinesOrAStallElseBackOff) {
  auto d = decide(K::kBroken, true, S::kRunning);
  EXPECT_EQ(d.next, A::kReopen);
  EXPECT_TRUE(d.resetBackoff);
  d = decide(K::kBroken, false, S::kRunning);
  EXPECT_EQ(d.next, A::kBackoff);
  EXPECT_FALSE(d.resetBackoff);
  EXPECT_EQ(decide(K::kClean, false, S::kRunning).next, A::kBackoff);
  EXPECT_EQ(decide(K::kStalled, false, S::kRunning).next, A::kReopen);
}

TEST(StreamEndDecisionTest, AnIdleContainerStallsLessOften) {
  EXPECT_EQ(decide(K::kStalled, false, S::kRunning, false, 5000ms).stall, 10000ms);
  EXPECT_EQ(decide(K::kStalled, false, S::kRunning, false, 40000ms).stall, 60000ms);  // capped
  EXPECT_EQ(decide(K::kStalled, true, S::kRunning, false, 40000ms).stall, 5000ms);    // lines: back
  EXPECT_EQ(decide(K::kBroken, false, S::kRunning, false, 40000ms).stall, 40000ms);   // kept
  // A maximum below the initial timeout never shrinks it.
  EXPECT_EQ(
      decideAfterStreamEnd(K::kStalled, false, S::kRunning, false, 5000ms, 5000ms, 1000ms).stall,
      5000ms);
}

TEST(StreamEndDecisionTest, DrainedAfterGraceUnlessRunning) {
  EXPECT_FALSE(drainedAfterGrace(S::kRunning));
  EXPECT_TRUE(drainedAfterGrace(S::kNotRunning));
  EXPECT_TRUE(drainedAfterGrace(S::kUnknown));  // a failed inspect: read once more, then done
}

TEST(StreamEndDecisionTest, CursorMovedOnlyByNewLines) {
  LogCursor a;
  LogCursor b = a;
  EXPECT_FALSE(cursorMoved(a, b));
  b.err.count = 1;
  EXPECT_TRUE(cursorMoved(a, b));
  b = a;
  b.out.lastTs = 7;
  EXPECT_TRUE(cursorMoved(a, b));
}

}  // namespace
}  // namespace zc::docker
