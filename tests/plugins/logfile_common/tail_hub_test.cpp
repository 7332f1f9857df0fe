#include "tail_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "test_support.h"

namespace zc::logfile {
namespace {

using zc::testing::TempDir;

using namespace std::chrono_literals;

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

TEST(TailHubTest, InotifyWakesTheFollowOfAWrittenFile) {
  TempDir dir;
  // A poll interval far beyond the test: only inotify can wake it in time.
  TailHub hub({2, std::chrono::milliseconds(60000)});
  ASSERT_TRUE(hub.inotifyActive());
  std::atomic<int> runs{0};
  uint64_t h = hub.add(dir.path() + "/a.log", [&] { ++runs; });
  hub.wake(h);
  ASSERT_TRUE(waitFor([&] { return runs.load() == 1; }));
  std::ofstream(dir.path() + "/a.log") << "x\n";
  EXPECT_TRUE(waitFor([&] { return runs.load() >= 2; }));
  hub.remove(h);
}

TEST(TailHubTest, ThePollWakesEveryFollowAndThreadsStayFixed) {
  TailHub hub({2, std::chrono::milliseconds(50)});
  std::vector<TempDir> dirs(50);
  std::vector<std::atomic<int>> runs(50);
  std::vector<uint64_t> handles;
  for (size_t i = 0; i < dirs.size(); ++i) {
    handles.push_back(hub.add(dirs[i].path() + "/x.log", [&runs, i] { ++runs[i]; }));
  }
  EXPECT_EQ(hub.threads(), 3u);
  EXPECT_TRUE(waitFor([&] {
    for (auto& r : runs) {
      if (r.load() < 3) return false;
    }
    return true;
  }));
  for (uint64_t h : handles) hub.remove(h);
}

TEST(TailHubTest, ARunNeverOverlapsItselfAndRemoveWaitsForIt) {
  TailHub hub({4, std::chrono::milliseconds(5)});
  std::atomic<int> inside{0}, maxInside{0}, runs{0};
  std::atomic<bool> done{false};
  uint64_t h = 0;
  h = hub.add("/nonexistent-dir/x.log", [&] {
    int n = ++inside;
    maxInside = std::max(maxInside.load(), n);
    std::this_thread::sleep_for(2ms);
    ++runs;
    hub.wake(h);  // asks for another run while running
    --inside;
  });
  hub.wake(h);
  EXPECT_TRUE(waitFor([&] { return runs.load() >= 20; }));
  hub.remove(h);
  int after = runs.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), after);
  EXPECT_EQ(maxInside.load(), 1);
  (void)done;
}

TEST(TailHubTest, RemoveFromInsideTheRun) {
  TailHub hub({1, std::chrono::milliseconds(5)});
  std::atomic<int> runs{0};
  uint64_t h = 0;
  std::atomic<bool> added{false};
  h = hub.add("/tmp/x.log", [&] {
    while (!added.load()) std::this_thread::yield();
    ++runs;
    hub.remove(h);
  });
  added = true;
  hub.wake(h);
  EXPECT_TRUE(waitFor([&] { return runs.load() == 1; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), 1);
}

// The count of files created at a followed path: a create and every rename over the name count,
// a write, another name and a rename away do not; an unregistered path is unknown. Every event
// before the call is counted, without waiting for the watcher thread.
TEST(TailHubTest, CountsTheFilesCreatedAtAFollowedPath) {
  TempDir dir;
  TailHub hub({1, std::chrono::milliseconds(60000)});
  ASSERT_TRUE(hub.inotifyActive());
  const std::string p = dir.path() + "/ctr.log";
  EXPECT_FALSE(hub.createdCount(p).has_value());
  uint64_t h = hub.add(p, [] {});
  EXPECT_EQ(hub.createdCount(p), 0u);
  std::ofstream(p) << "a\n";                       // created
  std::ofstream(p, std::ios::app) << "b\n";        // written: no
  std::ofstream(dir.path() + "/other.log") << "x\n";  // another name: no
  EXPECT_EQ(hub.createdCount(p), 1u);
  for (int i = 0; i < 3; ++i) {
    std::ofstream(p + ".tmp") << i << "\n";
    ASSERT_EQ(::rename((p + ".tmp").c_str(), p.c_str()), 0);  // renamed over it
  }
  EXPECT_EQ(hub.createdCount(p), 4u);
  ASSERT_EQ(::rename(p.c_str(), (p + ".1").c_str()), 0);  // renamed away: no
  EXPECT_EQ(hub.createdCount(p), 4u);
  EXPECT_FALSE(hub.createdCount(dir.path() + "/other.log").has_value());
  hub.remove(h);
  EXPECT_FALSE(hub.createdCount(p).has_value());
}

}  // namespace
}  // namespace zc::logfile
