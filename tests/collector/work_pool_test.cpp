// WorkPool (collector/src/work_pool.h): every job of a pass runs once, never more than the
// pool's size at once; workers are kept from one pass to the next (no thread per pass); concurrent
// passes share them; after stop() a pass runs on the caller.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "work_pool.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

TEST(WorkPoolTest, RunsEveryJobOnceAndReturnsWhenAllAreDone) {
  WorkPool pool("test", 4);
  std::vector<std::atomic<int>> hits(1000);
  pool.forEach(hits.size(), [&](size_t i) { hits[i].fetch_add(1); });
  for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "job " << i;
  pool.forEach(0, [](size_t) { FAIL() << "no job to run"; });
}

TEST(WorkPoolTest, NeverRunsMoreThanItsSizeAtOnce) {
  WorkPool pool("test", 3);
  std::atomic<int> inside{0};
  std::atomic<int> maxInside{0};
  pool.forEach(24, [&](size_t) {
    int now = inside.fetch_add(1) + 1;
    int seen = maxInside.load();
    while (now > seen && !maxInside.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(5ms);
    inside.fetch_sub(1);
  });
  EXPECT_LE(maxInside.load(), 3);
  EXPECT_GE(maxInside.load(), 2);  // the jobs did run side by side
}

TEST(WorkPoolTest, PassesReuseTheSameWorkers) {
  WorkPool pool("test", 4);
  std::mutex mu;
  std::set<std::thread::id> ids;
  for (int pass = 0; pass < 20; ++pass) {
    pool.forEach(10, [&](size_t) {
      std::this_thread::sleep_for(1ms);
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
    });
  }
  EXPECT_LE(pool.threads(), 4u);
  EXPECT_LE(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);  // the caller only waits
}

TEST(WorkPoolTest, StartsOnlyTheWorkersAPassNeeds) {
  WorkPool pool("test", 64);
  EXPECT_EQ(pool.threads(), 0u);
  pool.forEach(2, [](size_t) {});
  EXPECT_LE(pool.threads(), 2u);
}

TEST(WorkPoolTest, ConcurrentPassesShareTheWorkers) {
  WorkPool pool("test", 2);
  std::atomic<int> done{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] { pool.forEach(25, [&](size_t) { done.fetch_add(1); }); });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(done.load(), 100);
  EXPECT_LE(pool.threads(), 2u);
}

TEST(WorkPoolTest, AJobThatThrowsCountsAsDone) {
  WorkPool pool("test", 2);
  std::atomic<int> ran{0};
  pool.forEach(6, [&](size_t i) {
    ran.fetch_add(1);
    if (i % 2 == 0) throw std::runtime_error("boom");
  });
  EXPECT_EQ(ran.load(), 6);
}

TEST(WorkPoolTest, AfterStopAPassRunsOnTheCaller) {
  WorkPool pool("test", 4);
  pool.forEach(8, [](size_t) {});
  pool.stop();
  EXPECT_EQ(pool.threads(), 0u);
  std::set<std::thread::id> ids;
  pool.forEach(3, [&](size_t) { ids.insert(std::this_thread::get_id()); });
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
  pool.stop();  // idempotent
}

}  // namespace
}  // namespace zc::collector
