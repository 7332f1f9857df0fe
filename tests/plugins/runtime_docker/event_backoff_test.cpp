// The event stream's reconnect backoff (EventSubscriber) against a scripted fake engine: it grows
// while connections fail or die young, and starts again from its initial value after a
// connection that lived `healthyAfter`, so one long outage does not slow every later reconnect.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "engine_client.h"
#include "engine_test_support.h"
#include "event_subscriber.h"
#include "fake_engine.h"
#include "test_support.h"
#include "zc/clock.h"

namespace zc::docker::testing {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// Runs the subscriber against an engine whose event stream fails three times (500), then holds
// one connection open for `held`, then fails again; returns the delay between the end of that
// connection and the next attempt.
std::chrono::milliseconds delayAfterAConnectionThatLived(std::chrono::milliseconds held) {
  zc::testing::TempDir dir;
  std::mutex mu;
  Steady::time_point closedAt{}, nextAt{};
  FakeEngine engine(dir.path(), [&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.find("/events") == std::string::npos) {
      return (void)c.respond(404, R"({"message":"not scripted"})");
    }
    if (r.index == 3) {
      c.startChunked(200, "Content-Type: application/json\r\n");
      std::this_thread::sleep_for(held);
      {
        std::lock_guard lock(mu);
        closedAt = Steady::now();
      }
      c.endChunked();
      return;
    }
    if (r.index == 4) {
      std::lock_guard lock(mu);
      nextAt = Steady::now();
    }
    c.respond(500, R"({"message":"engine busy"})");
  });
  auto client = std::make_shared<EngineClient>(engine.socketPath(), 3000ms);
  EventOptions opts;
  opts.backoffInitial = 100ms;  // failures wait 100, 200, 400 ms; a fourth 800 ms
  opts.backoffMax = 10s;
  opts.healthyAfter = 500ms;
  RecordingEvents events;
  EventSubscriber sub(client, &logger(), &systemClock(), &events, opts, nullptr);
  sub.start();
  bool seen = zc::testing::waitFor(
      [&] {
        std::lock_guard lock(mu);
        return nextAt != Steady::time_point{};
      },
      10s);
  sub.stop();
  EXPECT_TRUE(seen) << "no attempt after the held connection";
  std::lock_guard lock(mu);
  return std::chrono::duration_cast<std::chrono::milliseconds>(nextAt - closedAt);
}

TEST(EventBackoffTest, AConnectionThatLivedLongEnoughResetsTheBackoff) {
  auto delay = delayAfterAConnectionThatLived(900ms);
  EXPECT_LT(delay, 500ms) << "expected the initial 100 ms, not the grown 800 ms";
}

TEST(EventBackoffTest, AShortLivedConnectionKeepsTheBackoffGrowing) {
  auto delay = delayAfterAConnectionThatLived(50ms);
  EXPECT_GE(delay, 700ms) << "a connection that dies young must not reset the backoff";
}

}  // namespace
}  // namespace zc::docker::testing
