// The whole daemon with --runtime podman against a real Podman service: both streams and
// 100,000-byte lines stored once in order, kill -9 of the collector mid-flood (repeatedly),
// Podman's max-size replacement under load (every line once, or one [GAP] for a tail it lost),
// a crash with its exit code, a crash loop (each death once), health probes on the published
// port, a stop with grace, metrics, and a Docker collector beside a Podman one on the same host
// without either seeing the other's containers.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "docker_fixture.h"
#include "test_support.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

int podman(const std::string& args, std::string* out = nullptr) {
  return runCommand("podman " + args + " 2>&1", out);
}

// A deployment container zynd-<id> run by Podman (--network none), removed with rm -f -t 0.
class PodmanContainer {
 public:
  PodmanContainer(const std::string& id, const std::string& script, const std::string& extra = "")
      : name_("zynd-" + id) {
    std::string out;
    ok_ = podman("run -d --network none --name " + name_ + " " + extra + " " + testImage() +
                     " sh -c '" + script + "'",
                 &out) == 0;
    if (!ok_) ADD_FAILURE() << "podman run: " << out;
  }
  ~PodmanContainer() { podman("rm -f -t 0 " + name_ + " >/dev/null"); }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  bool waitExited(std::chrono::seconds limit) const {
    return waitFor(
        [&] {
          std::string out;
          podman("inspect -f '{{.State.Running}}' " + name_, &out);
          return out.rfind("false", 0) == 0;
        },
        limit, 100ms);
  }

 private:
  std::string name_;
  bool ok_ = false;
};

class PodmanIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!podmanAvailable()) {
      if (podmanRequired()) FAIL() << "Podman required but not reachable";
      GTEST_SKIP() << "no Podman service at " << podmanSocketPath()
                   << " (scripts/start-podman.sh)";
    }
  }
  std::vector<std::string> podmanArgs(std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {"--runtime", "podman", "--plugin-opt",
                                  "runtime.podman.socket=" + podmanSocketPath()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  const std::string& dataDir() const { return dir_.path(); }

  TempDir dir_;
};

TEST_F(PodmanIntegrationTest, BothStreamsAndLongLinesAreStoredOnceInOrder) {
  Collector collector(dataDir(), podmanArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("pboth");
  PodmanContainer c(id,
                    "i=0; while [ $i -lt 5000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                    "i=$((i+1)); done; x=$(head -c 100000 /dev/zero | tr \"\\\\0\" z); "
                    "echo \"$x\"; echo \"$x\" >&2");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 10002u);
  std::vector<LogLine> numbered(lines.begin(), lines.end());
  std::vector<LogLine> longOnes;
  std::erase_if(numbered, [&](const LogLine& l) {
    if (l.text.size() != 100000) return false;
    longOnes.push_back(l);
    return true;
  });
  expectNumberedOnce(numbered, LogStream::kStdout, "out ", 5000);
  expectNumberedOnce(numbered, LogStream::kStderr, "err ", 5000);
  ASSERT_EQ(longOnes.size(), 2u);
  EXPECT_EQ(longOnes[0].text, std::string(100000, 'z'));
  EXPECT_EQ(longOnes[1].text, std::string(100000, 'z'));
}

// 10 rounds of start, a random 0.1-0.7 s of the flood, kill -9; the flood (120,000 lines, a
// pause of 1 s every 10,000) lasts longer than the rounds on this machine, so each kill lands
// mid-flood (how many did is recorded: `rounds_mid_flood`).
TEST_F(PodmanIntegrationTest, KillNineOfTheCollectorMidFloodLosesAndRepeatsNothing) {
  constexpr int kLines = 120000;
  constexpr int kRounds = 10;
  std::string id = uniqueId("pkill");
  PodmanContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                            " ]; do echo \"line $i\"; i=$((i+1)); "
                            "if [ $((i % 10000)) -eq 0 ]; then sleep 1; fi; done");
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(std::random_device{}());
  int midFlood = 0;
  for (int round = 0; round < kRounds; ++round) {
    Collector collector(dataDir(), podmanArgs());
    ASSERT_TRUE(collector.waitConnected(20s)) << "round " << round << ": "
                                              << collector.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 600));
    collector.process().signal(SIGKILL);
    collector.process().wait(5s);
    std::string running;
    podman("inspect -f '{{.State.Running}}' " + c.name(), &running);
    if (running.rfind("true", 0) == 0) ++midFlood;
  }
  ::testing::Test::RecordProperty("rounds_mid_flood", midFlood);
  std::printf("kill -9 rounds: %d, %d of them mid-flood\n", kRounds, midFlood);
  ASSERT_TRUE(c.waitExited(180s));
  Collector last(dataDir(), podmanArgs());
  ASSERT_TRUE(last.waitDrained(120s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
}

// Lines "line <n>" stored in order, none twice; with `gapForEveryHole`, every hole in the numbers
// has a [GAP] line stored before the line after it.
void expectOnceOrGap(const std::vector<LogLine>& all, int count, size_t* missing,
                     bool gapForEveryHole = true) {
  int next = 0;
  bool gapSeen = false;
  *missing = 0;
  for (const auto& l : all) {
    if (l.stream == LogStream::kSystem) {
      gapSeen |= l.text.rfind("[GAP]", 0) == 0;
      continue;
    }
    int n = std::stoi(l.text.substr(5));
    ASSERT_GE(n, next) << "line " << n << " repeated or out of order";
    if (n > next) {
      if (gapForEveryHole) {
        EXPECT_TRUE(gapSeen) << "lines " << next << ".." << n - 1 << " lost without a [GAP]";
      }
      *missing += static_cast<size_t>(n - next);
    }
    gapSeen = false;
    next = n + 1;
  }
  EXPECT_LE(next, count);
}

// Podman's max-size replaces the file (new inode, no backup). 40,000 lines of ~55 bytes on disk
// through a 64 KiB file: replaced about 35 times, a file living ~0.1 s; the collector is killed
// once in the middle. `strict`: every hole has a [GAP] before it.
void runReplacementUnderLoad(const std::vector<std::string>& args, const std::string& dataDir,
                             bool strict) {
  constexpr int kLines = 40000;
  std::string id = uniqueId("prot");
  std::mt19937 rng(std::random_device{}());
  {
    Collector collector(dataDir, args);
    ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
    PodmanContainer c(id,
                      "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i\"; i=$((i+1)); "
                          "if [ $((i % 10000)) -eq 0 ]; then sleep 1; fi; done; sleep 1",
                      "--log-opt max-size=64k");
    ASSERT_TRUE(c.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(800 + rng() % 400));
    collector.process().signal(SIGKILL);
    collector.process().wait(5s);
    std::this_thread::sleep_for(1500ms);
    Collector again(dataDir, args);
    ASSERT_TRUE(c.waitExited(60s));
    ASSERT_TRUE(again.waitDrained(60s)) << again.process().err();
    ASSERT_EQ(again.stop(), 0);
  }
  auto all = readStoredLines(dataDir, id);
  EXPECT_EQ(checkContiguous(all), "");
  size_t missing = 0;
  expectOnceOrGap(all, kLines, &missing, strict);
  EXPECT_LT(missing, static_cast<size_t>(kLines));
  ::testing::Test::RecordProperty("lines_lost_to_replacement", static_cast<int>(missing));
}

// Never a line twice or out of order, across replacements and a kill -9.
TEST_F(PodmanIntegrationTest, MaxSizeReplacementUnderLoadRepeatsNothing) {
  runReplacementUnderLoad(podmanArgs(), dataDir(), false);
}

// Every loss said by a [GAP]: a follow that falls more than one whole file behind (the file
// replaced twice between two of its looks, ~0.2 s here on a loaded 2-core machine) skips the
// file in between, and the count of files created at the path (the hub's inotify watch) makes
// it a [GAP].
TEST_F(PodmanIntegrationTest, MaxSizeReplacementUnderLoadSaysGapForEveryLoss) {
  runReplacementUnderLoad(podmanArgs(), dataDir(), true);
}

TEST_F(PodmanIntegrationTest, CrashWithExitCodeAndMetricsAndStopWithGrace) {
  Collector collector(dataDir(), podmanArgs({"--metrics-interval", "1s", "--crash-grace", "1h",
                                             "--stop-grace", "5s"}));
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string crashId = uniqueId("pcrash");
  std::string stopId = uniqueId("pstop");
  PodmanContainer crash(crashId, "echo about to fail; sleep 1; exit 3");
  PodmanContainer stop(stopId, "trap \"echo bye; exit 0\" TERM; echo up; "
                               "while :; do sleep 0.1; done");
  ASSERT_TRUE(crash.ok());
  ASSERT_TRUE(stop.ok());
  // The crash: status crashed, one [CRASH] exit=3.
  ASSERT_TRUE(waitFor(
      [&] {
        std::string body;
        return httpGet(collector.port(), "/api/deployments/" + crashId, &body) == 200 &&
               body.find("\"crashed\"") != std::string::npos;
      },
      30s, 200ms))
      << collector.process().err();
  std::string logs;
  ASSERT_EQ(httpGet(collector.port(), "/api/deployments/" + crashId + "/logs?limit=100", &logs),
            200);
  EXPECT_NE(logs.find("[CRASH] exit=3"), std::string::npos) << logs;
  EXPECT_NE(logs.find("about to fail"), std::string::npos) << logs;
  // Metrics of the running one.
  ASSERT_TRUE(waitFor(
      [&] {
        std::string body;
        return httpGet(collector.port(), "/api/deployments/" + stopId + "/metrics", &body) == 200 &&
               body.find("memUsedMb") != std::string::npos;
      },
      20s, 250ms))
      << collector.process().err();
  // Stop with grace: the agent says goodbye, the container is removed.
  std::string body;
  int code = httpCall(collector.port(), "DELETE", "/api/deployments/" + stopId, &body);
  ASSERT_TRUE(code == 200 || code == 202) << code << " " << body;
  ASSERT_TRUE(waitFor(
      [&] {
        std::string out;
        return podman("container exists " + stop.name()) != 0;
      },
      30s, 200ms))
      << collector.process().err();
  ASSERT_EQ(httpGet(collector.port(), "/api/deployments/" + stopId + "/logs?limit=100", &logs),
            200);
  EXPECT_NE(logs.find("bye"), std::string::npos) << logs;
  EXPECT_EQ(collector.stop(), 0);
}

size_t countOf(const std::string& body, const std::string& part) {
  size_t n = 0;
  for (size_t at = body.find(part); at != std::string::npos; at = body.find(part, at + 1)) ++n;
  return n;
}

// Podman restarts at once with no back-off, sends `restart` before the `die` it ends, and every
// run appends to one log file: each death once, with its own exit code, after its run's lines.
TEST_F(PodmanIntegrationTest, ACrashLoopRecordsEachDeathOnceWithItsOwnExitCode) {
  Collector collector(dataDir(), podmanArgs({"--keep-crashed", "true"}));
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("ploop");
  PodmanContainer c(id, "n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; "
                        "echo \"run $n\"; sleep 0.5; exit $n", "--restart on-failure:3");
  ASSERT_TRUE(c.ok());
  std::string logs;
  ASSERT_TRUE(waitFor(
      [&] {
        return httpGet(collector.port(), "/api/deployments/" + id + "/logs?limit=100", &logs) ==
                   200 &&
               countOf(logs, "[CRASH]") >= 4;
      },
      60s, 250ms))
      << logs << collector.process().err();
  ASSERT_TRUE(c.waitExited(30s));
  std::this_thread::sleep_for(2s);  // no late duplicate
  ASSERT_TRUE(collector.waitDrained(30s));
  ASSERT_EQ(collector.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  // Each death once, in order; each [CRASH] after its own run's line (the next run may already
  // have written: Podman restarts at once into the same file, as the host's rule allows).
  std::vector<std::string> crashes;
  std::vector<size_t> crashAt, runAt(5, all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].text.rfind("[CRASH]", 0) == 0) {
      crashes.push_back(all[i].text);
      crashAt.push_back(i);
    }
    for (int r = 1; r <= 4; ++r) {
      if (all[i].text == "run " + std::to_string(r)) runAt[r] = i;
    }
  }
  ASSERT_EQ(crashes, (std::vector<std::string>{"[CRASH] exit=1 oom=false", "[CRASH] exit=2 oom=false",
                                               "[CRASH] exit=3 oom=false", "[CRASH] exit=4 oom=false"}));
  for (int r = 1; r <= 4; ++r) {
    ASSERT_LT(runAt[r], all.size()) << "run " << r << " not stored";
    EXPECT_GT(crashAt[r - 1], runAt[r]) << "[CRASH] of run " << r << " before its line";
  }
}

// The health probe on the published port (the deployer's 5000/tcp on a loopback host port):
// three failures are [UNHEALTHY], the next success [RECOVERED].
TEST_F(PodmanIntegrationTest, HealthProbesOnThePublishedPortGoUnhealthyAndRecover) {
  Collector collector(dataDir(), podmanArgs({"--health-interval", "1s"}));
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("phealth");
  uint16_t port = freePort();
  std::string serve = "mkdir -p /www; echo ok > /www/health; httpd -p 5000 -h /www";
  // Bridge networking for the published port (netavark), not --network none.
  std::string out;
  ASSERT_EQ(podman("run -d --name zynd-" + id + " -p 127.0.0.1:" + std::to_string(port) +
                       ":5000 " + testImage() + " sh -c '" + serve + "; sleep 1000'",
                   &out),
            0)
      << out;
  struct Remove {
    std::string name;
    ~Remove() { podman("rm -f -t 0 " + name + " >/dev/null"); }
  } remove{"zynd-" + id};
  std::string body;
  ASSERT_TRUE(waitFor(
      [&] {
        return httpGet(collector.port(), "/api/deployments/" + id, &body) == 200 &&
               body.find(std::to_string(port)) != std::string::npos;
      },
      20s, 250ms))
      << body;
  ASSERT_EQ(podman("exec zynd-" + id + " killall httpd", &out), 0) << out;
  ASSERT_TRUE(waitFor(
      [&] {
        return httpGet(collector.port(), "/api/deployments/" + id + "/logs?limit=100", &body) ==
                   200 &&
               body.find("[UNHEALTHY]") != std::string::npos;
      },
      30s, 250ms))
      << body;
  ASSERT_EQ(podman("exec zynd-" + id + " httpd -p 5000 -h /www", &out), 0) << out;
  ASSERT_TRUE(waitFor(
      [&] {
        return httpGet(collector.port(), "/api/deployments/" + id + "/logs?limit=100", &body) ==
                   200 &&
               body.find("[RECOVERED]") != std::string::npos;
      },
      30s, 250ms))
      << body;
  EXPECT_EQ(collector.stop(), 0);
}

TEST_F(PodmanIntegrationTest, ADockerCollectorAndAPodmanCollectorSideBySide) {
  if (!dockerAvailable()) GTEST_SKIP() << "no Docker engine for the side-by-side test";
  TempDir dockerDir;
  Collector pc(dataDir(), podmanArgs());
  Collector dc(dockerDir.path());
  ASSERT_TRUE(pc.waitConnected(20s)) << pc.process().err();
  ASSERT_TRUE(dc.waitConnected(20s)) << dc.process().err();
  std::string pid = uniqueId("pside");
  std::string did = uniqueId("dside");
  PodmanContainer p(pid, "i=0; while [ $i -lt 2000 ]; do echo \"p $i\"; i=$((i+1)); done");
  TestContainer d(did, "i=0; while [ $i -lt 2000 ]; do echo \"d $i\"; i=$((i+1)); done");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(p.waitExited(60s));
  ASSERT_TRUE(d.waitExited(60s));
  ASSERT_TRUE(pc.waitDrained(60s)) << pc.process().err();
  ASSERT_TRUE(dc.waitDrained(60s)) << dc.process().err();
  EXPECT_EQ(httpGet(pc.port(), "/api/deployments/" + did), 404);
  EXPECT_EQ(httpGet(dc.port(), "/api/deployments/" + pid), 404);
  ASSERT_EQ(pc.stop(), 0);
  ASSERT_EQ(dc.stop(), 0);
  auto pl = containerLines(readStoredLines(dataDir(), pid));
  auto dl = containerLines(readStoredLines(dockerDir.path(), did));
  ASSERT_EQ(pl.size(), 2000u);
  ASSERT_EQ(dl.size(), 2000u);
  expectNumberedOnce(pl, LogStream::kStdout, "p ", 2000);
  expectNumberedOnce(dl, LogStream::kStdout, "d ", 2000);
}

}  // namespace
}  // namespace zc::testing
