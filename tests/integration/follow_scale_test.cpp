// The follow contract at scale, through the whole daemon at its default options and the real
// Docker engine: 200 followed and sampled containers share the runtime's follow loop (a fixed
// set of threads) and the metrics task (one thread, every request in flight at once), at most
// 40 threads in all, and every line of every
// container is stored once, in order, lineNos contiguous.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

// Threads of process `pid` (its /proc status), 0 when unreadable.
int threadsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return 0;
}

// The number after `"key":` in /healthz, -1 when missing.
double healthzNumber(uint16_t port, const std::string& key) {
  std::string body;
  if (httpGet(port, "/healthz", &body) != 200) return -1;
  auto at = body.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::atof(body.c_str() + at + key.size() + 3);
}

int healthzFollows(uint16_t port) { return static_cast<int>(healthzNumber(port, "follows")); }

// Containers made and removed in bulk (one `docker` call per container to create, one to remove
// them all), all carrying `label`.
class Fleet {
 public:
  explicit Fleet(std::string label) : label_(std::move(label)) {}
  ~Fleet() { removeAll(); }
  // Starts `n` containers running `script`, `parallel` `docker run`s at a time; their ids.
  std::vector<std::string> start(int n, const std::string& script, int parallel) {
    std::vector<std::string> ids(n);
    for (auto& id : ids) id = uniqueId("fs");
    std::atomic<int> next{0}, failed{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < parallel; ++t) {
      ts.emplace_back([&] {
        for (int i; (i = next++) < n;) {
          if (docker("run -d --name zynd-" + ids[i] + " --label zynd.test=1 --label " + label_ +
                     " " + testImage() + " sh -c '" + script + "'") != 0) {
            ++failed;
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(failed.load(), 0);
    return ids;
  }
  void killAll() { docker("kill $(/usr/bin/docker ps -q --filter label=" + label_ + ")"); }
  void removeAll() { docker("rm -f $(/usr/bin/docker ps -aq --filter label=" + label_ + ")"); }

 private:
  std::string label_;
};

class FollowScaleTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  TempDir dir_;
};

TEST_F(FollowScaleTest, TwoHundredFollowedContainersShareAFixedSetOfThreadsAndLoseNoLine) {
  constexpr int kContainers = 200;
  constexpr int kLines = 5;
  constexpr int kMaxThreads = 40;
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  const std::string label = "zc.follow-scale=" + uniqueId("run");
  Fleet fleet(label);
  // Only this test's containers; every other option at its default, so the count is the
  // daemon's as shipped: the follows and the metrics task sampling all 200 (the test runs through
  // several --metrics-interval passes).
  Collector collector(dataDir(), {"--select-label", label});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  const pid_t pid = collector.process().pid();
  const int idle = threadsOf(pid);

  std::atomic<bool> sampling{true};
  std::atomic<int> maxThreads{0};
  std::thread sampler([&] {
    while (sampling) {
      int n = threadsOf(pid);
      if (n > maxThreads) maxThreads = n;
      std::this_thread::sleep_for(50ms);
    }
  });

  // Each container writes its numbered lines at once, then stays up until killed.
  std::string script = "i=0; while [ $i -lt " + std::to_string(kLines) +
                       " ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 600";
  std::vector<std::string> ids = fleet.start(kContainers, script, 6);
  bool allFollowed = waitFor([&] { return healthzFollows(collector.port()) == kContainers; },
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - std::chrono::steady_clock::now()),
                             200ms);
  int followedThreads = threadsOf(pid);
  std::this_thread::sleep_for(2s);  // a few stall-free seconds with every follow open
  // The metrics task has sampled the followed containers meanwhile (passes every 30 s).
  const double sweeps = healthzNumber(collector.port(), "sweeps");
  const double sampled = healthzNumber(collector.port(), "lastSweepStored");
  const double sweepMs = healthzNumber(collector.port(), "lastSweepMs");
  fleet.killAll();
  bool drained = collector.waitDrained(std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now()));
  sampling = false;
  sampler.join();
  std::printf("threads: idle %d, with %d followed %d, max seen %d; metrics passes %.0f, the last "
              "stored %.0f samples in %.0f ms\n",
              idle, kContainers, followedThreads, maxThreads.load(), sweeps, sampled, sweepMs);
  ASSERT_TRUE(allFollowed) << "follows: " << healthzFollows(collector.port());
  ASSERT_TRUE(drained) << collector.process().err();
  EXPECT_LE(maxThreads.load(), kMaxThreads);
  EXPECT_GT(sampled, 0) << "no metrics pass sampled the followed containers";
  ASSERT_EQ(collector.stop(), 0);

  for (const auto& id : ids) {
    auto all = readStoredLines(dataDir(), id);
    EXPECT_EQ(checkContiguous(all), "") << id;
    auto lines = containerLines(all);
    EXPECT_EQ(lines.size(), static_cast<size_t>(kLines)) << id;
    expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
  }
}

}  // namespace
}  // namespace zc::testing
