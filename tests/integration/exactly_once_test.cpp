// Exactly-once capture through the whole daemon and the real Docker engine: numbered lines on
// both streams, kill -9 of the collector mid-flood (repeatedly), containers restarted by their
// restart policy. After each, the stored lines are the engine's log: each line once, in order
// per stream, lineNos contiguous. Lines the engine rotated away while the collector was down
// are one [GAP] line, counted in zynd_collector_log_gaps_total.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

class ExactlyOnceTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  // Each test's containers carry a label of their own and its collectors select it, so other
  // containers on the engine are never followed. No log_source: the default (auto) is tested.
  std::vector<std::string> selectArgs() const { return {"--select-label", "zc.eo-test=" + label_}; }
  std::string labelArg() const { return "--label zc.eo-test=" + label_; }
  TempDir dir_;
  std::string label_ = uniqueId("eo");
};

TEST_F(ExactlyOnceTest, NumberedLinesOnBothStreamsAreStoredOnceInOrder) {
  Collector collector(dataDir(), selectArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("both");
  TestContainer c(id,
                  "i=0; while [ $i -lt 10000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                  "i=$((i+1)); done",
                  labelArg());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 20000u);
  expectNumberedOnce(lines, LogStream::kStdout, "out ", 10000);
  expectNumberedOnce(lines, LogStream::kStderr, "err ", 10000);
}

TEST_F(ExactlyOnceTest, KillNineOfTheCollectorMidFloodLosesAndRepeatsNothing) {
  constexpr int kLines = 150000;
  std::string id = uniqueId("kill");
  // A flood with a few pauses, so that kills land while lines are still being written.
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i\"; i=$((i+1)); "
                          "if [ $((i % 30000)) -eq 0 ]; then sleep 1; fi; done",
                  labelArg());
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 10; ++round) {
    Collector collector(dataDir(), selectArgs());
    ASSERT_TRUE(collector.waitConnected(20s)) << "round " << round << ": " << collector.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 600));
    collector.process().signal(SIGKILL);
    collector.process().wait(5s);
  }
  ASSERT_TRUE(c.waitExited(120s));
  Collector last(dataDir(), selectArgs());
  ASSERT_TRUE(last.waitDrained(120s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
}

TEST_F(ExactlyOnceTest, RestartPolicyRunsContinueWithTheNextLineNo) {
  Collector collector(dataDir(), selectArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("restart");
  // Three runs (the first plus two restarts); each prints 1,000 numbered lines and fails.
  TestContainer c(id, "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done; exit 1",
                  "--restart on-failure:2 " + labelArg());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor(
      [&] {
        std::string out;
        docker("inspect -f '{{.RestartCount}} {{.State.Running}} {{.State.Restarting}}' " + c.name(), &out);
        return out.rfind("2 false false", 0) == 0;
      },
      90s, 200ms));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 3000u);
  std::map<std::string, int> seen;
  for (const auto& l : lines) seen[l.text]++;
  ASSERT_EQ(seen.size(), 1000u);
  for (const auto& [text, n] : seen) ASSERT_EQ(n, 3) << text;
  // In order within each run: the n-th line of the log is "line (n mod 1000)".
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i].text, "line " + std::to_string(i % 1000)) << "lineNo " << lines[i].lineNo;
  }
  // Each of the three deaths recorded once, with the [RESTART] lines in between.
  int crashes = 0;
  for (const auto& l : all) crashes += l.text == "[CRASH] exit=1 oom=false";
  EXPECT_EQ(crashes, 3);
}

TEST_F(ExactlyOnceTest, LinesRotatedAwayWhileTheCollectorWasDownAreOneGap) {
  std::string id = uniqueId("gap");
  TempDir sync;
  // 1,000 lines, then, once the collector is down, about 10 MB more through a json-file log
  // that keeps two files of 100 kB: most of it is rotated away before anyone reads it.
  TestContainer c(id, "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done; "
                      "while [ ! -f /sync/go ]; do sleep 0.1; done; "
                      "while [ $i -lt 101000 ]; do echo \"line $i ......................................"
                      "..................................................\"; i=$((i+1)); done",
                  "--log-opt max-size=100k --log-opt max-file=2 -v " + sync.path() + ":/sync " +
                      labelArg());
  ASSERT_TRUE(c.ok());
  {
    Collector first(dataDir(), selectArgs());
    ASSERT_TRUE(first.waitConnected(20s)) << first.process().err();
    std::string body;
    ASSERT_TRUE(waitFor([&] {
      return httpGet(first.port(), "/api/deployments/" + id + "/logs?since=999&limit=1", &body) ==
                 200 && body.find("\"lineNo\":1000") != std::string::npos;
    }, 60s, 100ms)) << body;
    ASSERT_EQ(first.stop(), 0);
  }
  ASSERT_EQ(runCommand("touch " + sync.path() + "/go"), 0);
  ASSERT_TRUE(c.waitExited(120s));
  std::string held;
  ASSERT_EQ(docker("logs " + c.name() + " 2>/dev/null", &held), 0);  // what the engine still holds

  Collector second(dataDir(), selectArgs());
  ASSERT_TRUE(second.waitDrained(120s)) << second.process().err();
  std::string metrics;
  ASSERT_EQ(httpGet(second.port(), "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("\nzynd_collector_log_gaps_total 1\n"), std::string::npos);
  ASSERT_EQ(second.stop(), 0);

  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  std::vector<std::string> gaps;
  size_t gapAt = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].text.rfind("[GAP]", 0) == 0) {
      gaps.push_back(all[i].text);
      gapAt = i;
    }
  }
  ASSERT_EQ(gaps.size(), 1u) << ::testing::PrintToString(gaps);
  EXPECT_EQ(gaps[0].rfind("[GAP] the engine no longer holds the stdout lines between ", 0), 0u)
      << gaps[0];
  // Before the gap the first 1,000 lines; after it exactly what the engine still holds, once.
  auto lines = containerLines(all);
  ASSERT_GT(lines.size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(lines[i].text, "line " + std::to_string(i));
  EXPECT_EQ(all[gapAt - 1].text, "line 999");
  std::vector<std::string> engine;
  std::istringstream in(held);
  for (std::string l; std::getline(in, l);) engine.push_back(l);
  ASSERT_FALSE(engine.empty());
  ASSERT_LT(engine.size(), 100000u) << "nothing was rotated away";
  ASSERT_EQ(lines.size(), 1000 + engine.size());
  for (size_t i = 0; i < engine.size(); ++i) ASSERT_EQ(lines[1000 + i].text, engine[i]) << i;
  EXPECT_EQ(engine.back().rfind("line 100999 ", 0), 0u);
}

TEST_F(ExactlyOnceTest, ALineOfOneHundredThousandBytesIsStoredWhole) {
  Collector collector(dataDir(), selectArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("long");
  TestContainer c(id, "echo before; head -c 100000 /dev/zero | tr '\\0' x; echo; echo after",
                  labelArg());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(30s));
  ASSERT_TRUE(collector.waitDrained(30s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto lines = containerLines(readStoredLines(dataDir(), id));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "before");
  EXPECT_EQ(lines[1].text, std::string(100000, 'x'));
  EXPECT_FALSE(lines[1].truncated);
  EXPECT_EQ(lines[2].text, "after");
}

}  // namespace
}  // namespace zc::testing
