// batchGet (batch_get.h) against a fake engine on a temporary socket: many requests in flight
// from one thread, in waves under a cap, and one request's fault never touching the others.
#include "batch_get.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fake_engine.h"
#include "test_support.h"

namespace zc::docker::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every answer waits `tick` (the engine's stats tick); "/never/..." is never answered,
// "/garbage/..." gets bytes that are no HTTP response, "/cut/..." a body cut short.
FakeEngine::Handler tickingHandler(std::chrono::milliseconds tick) {
  return [tick](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind("/never/", 0) == 0) {
      c.hangUntilClosed();
      return;
    }
    std::this_thread::sleep_for(tick);
    if (r.target.rfind("/garbage/", 0) == 0) {
      c.write("NOT HTTP AT ALL\r\n\r\n");
    } else if (r.target.rfind("/cut/", 0) == 0) {
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"short\":");
    } else {
      c.respond(200, "{\"target\":\"" + r.target + "\"}");
    }
  };
}

std::vector<std::string> targets(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("/ok/" + std::to_string(i));
  return v;
}

// batchGet with `maxInFlight`, and how long it took.
struct Timed {
  std::vector<Result<HttpResult>> r;
  Clock::duration took;
};
Timed timedBatch(const FakeEngine& engine, const std::vector<std::string>& t, size_t maxInFlight,
                 std::chrono::milliseconds deadline) {
  BatchGetOptions o;
  o.maxInFlight = maxInFlight;
  o.deadline = Clock::now() + deadline;
  auto t0 = Clock::now();
  auto r = batchGet(engine.socketPath(), t, o);
  return {std::move(r), Clock::now() - t0};
}

TEST(BatchGetTest, AllRequestsShareOneTick) {
  zc::testing::TempDir dir;
  FakeEngine engine(dir.path(), tickingHandler(500ms));
  auto t = targets(40);
  auto [r, took] = timedBatch(engine, t, 256, 10s);
  ASSERT_EQ(r.size(), t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    ASSERT_TRUE(r[i].isOk()) << i << ": " << r[i].status().toString();
    EXPECT_EQ(r[i]->status, 200);
    EXPECT_EQ(r[i]->body, "{\"target\":\"" + t[i] + "\"}");  // each answer to its own request
  }
  EXPECT_LT(took, 2s) << "one after the other would take 20 s";
}

TEST(BatchGetTest, MoreThanTheCapGoInWaves) {
  zc::testing::TempDir dir;
  FakeEngine engine(dir.path(), tickingHandler(300ms));
  auto t = targets(12);
  auto [r, took] = timedBatch(engine, t, 4, 10s);
  for (size_t i = 0; i < t.size(); ++i) ASSERT_TRUE(r[i].isOk()) << r[i].status().toString();
  EXPECT_GE(took, 850ms) << "3 waves of 4";
  EXPECT_LT(took, 2500ms);
}

TEST(BatchGetTest, FaultsStayWithTheirOwnRequest) {
  zc::testing::TempDir dir;
  FakeEngine engine(dir.path(), tickingHandler(100ms));
  std::vector<std::string> t = {"/ok/0", "/never/1", "/garbage/2", "/ok/3", "/cut/4", "/ok/5"};
  auto [r, took] = timedBatch(engine, t, 256, 1500ms);
  ASSERT_EQ(r.size(), t.size());
  for (size_t i : {0u, 3u, 5u}) {
    ASSERT_TRUE(r[i].isOk()) << r[i].status().toString();
    EXPECT_EQ(r[i]->body, "{\"target\":\"" + t[i] + "\"}");
  }
  EXPECT_EQ(r[1].status().code(), Status::Code::kTimeout) << r[1].status().toString();
  EXPECT_EQ(r[2].status().code(), Status::Code::kCorruption) << r[2].status().toString();
  EXPECT_EQ(r[4].status().code(), Status::Code::kUnavailable) << r[4].status().toString();
  EXPECT_LT(took, 2500ms) << "the deadline ends the pass";
}

TEST(BatchGetTest, NoEngineIsUnavailableForEach) {
  zc::testing::TempDir dir;
  BatchGetOptions o;
  o.deadline = Clock::now() + 1s;
  auto r = batchGet(dir.path() + "/none.sock", targets(3), o);
  ASSERT_EQ(r.size(), 3u);
  for (auto& x : r) EXPECT_EQ(x.status().code(), Status::Code::kUnavailable);
}

}  // namespace
}  // namespace zc::docker::testing
