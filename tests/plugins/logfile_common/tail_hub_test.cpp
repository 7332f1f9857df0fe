#include "tail_hub.h"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace zc::logfile
