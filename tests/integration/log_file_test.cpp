// The json-file path (--plugin-opt runtime.docker.log_source=file, and auto, the default) through
// the whole daemon and the real Docker engine: the default reads the file, both streams and
// 100,000-byte lines, kill -9 of the collector mid-flood, rotation under a flood (max-size=1m,
// max-file=3), lines rotated (and compressed) while the collector was down read from the rotated
// files, and log_source switched between api and file across restarts mid-flood. Every line stored exactly once, lineNos contiguous.
// Each test's containers carry a label of their own and its collectors select it
// (--select-label), so other containers on the engine are never followed.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <thread>

#include "docker_fixture.h"
#include "zc/host/plugin_loader.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  std::string labelArg() const { return "--label zc.logfile-test=" + label_; }
  std::vector<std::string> args(const std::string& source) const {
    return {"--select-label", "zc.logfile-test=" + label_, "--plugin-opt",
            "runtime.docker.log_source=" + source};
  }
  // The cursor stored for the container (the collector must be stopped).
  std::string storedCursor(const std::string& id, const std::string& name) {
    std::string containerId;
    docker("inspect -f '{{.Id}}' " + name, &containerId);
    while (!containerId.empty() && containerId.back() == '\n') containerId.pop_back();
    static NullLogger logger;
    host::PluginRegistry registry;
    EXPECT_TRUE(registry.scanDirectory(ZC_PLUGIN_DIR).isOk());
    EXPECT_TRUE(registry.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.options["data_dir"] = dataDir();
    ctx.logger = &logger;
    ctx.clock = &systemClock();
    auto storage = registry.create<plugin::Storage>("rocksdb", ctx);
    if (!storage.isOk() || !(*storage)->open().isOk()) return "(no storage)";
    auto c = (*storage)->getCursor(id, containerId);
    EXPECT_TRUE((*storage)->close().isOk());
    return c.isOk() ? c.value() : c.status().toString();
  }
  TempDir dir_;
  std::string label_ = uniqueId("lf");
};

TEST_F(LogFileTest, BothStreamsAndLongLinesFromTheFile) {
  Collector collector(dataDir(), args("file"));
  ASSERT_TRUE(collector.waitConnected(60s)) << collector.process().err();
  std::string id = uniqueId("lfboth");
  TestContainer c(id,
                  "i=0; while [ $i -lt 5000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                  "i=$((i+1)); done; head -c 100000 /dev/zero | tr '\\0' x; echo; "
                  "head -c 100000 /dev/zero | tr '\\0' y >&2; echo >&2; echo \"out 5000\"",
                  labelArg());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  const std::string cursor = storedCursor(id, c.name());
  EXPECT_EQ(cursor.rfind("v2-", 0), 0u) << "not read from the file: " << cursor << "\n"
                                        << collector.process().err();
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 10003u);
  expectNumberedOnce(lines, LogStream::kStdout, "out ", 5001);
  expectNumberedOnce(lines, LogStream::kStderr, "err ", 5000);
  int longOut = 0, longErr = 0;
  for (const auto& l : lines) {
    if (l.text == std::string(100000, 'x') && l.stream == LogStream::kStdout && !l.truncated) ++longOut;
    if (l.text == std::string(100000, 'y') && l.stream == LogStream::kStderr && !l.truncated) ++longErr;
  }
  EXPECT_EQ(longOut, 1);
  EXPECT_EQ(longErr, 1);
}

TEST_F(LogFileTest, KillNineMidFloodLosesAndRepeatsNothing) {
  constexpr int kLines = 100000;
  std::string id = uniqueId("lfkill");
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i\"; i=$((i+1)); "
                          "if [ $((i % 25000)) -eq 0 ]; then sleep 1; fi; done",
                  labelArg());
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 5; ++round) {
    Collector collector(dataDir(), args("file"));
    ASSERT_TRUE(collector.waitConnected(60s)) << "round " << round << ": " << collector.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 600));
    collector.process().signal(SIGKILL);
    collector.process().wait(5s);
  }
  ASSERT_TRUE(c.waitExited(120s));
  Collector last(dataDir(), args("file"));
  ASSERT_TRUE(last.waitDrained(120s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
}

// What the file path must guarantee under a flood through small rotated files: every line it
// stores once, in order, and a `[GAP]` line wherever lines are missing, never silence (a follow
// that reads nothing while more than max-file rotations happen finds its next files deleted by
// the engine: that is a gap, not a bug; plugins/logfile_common/README.md, "Rotation").
TEST_F(LogFileTest, RotationUnderAFloodStoresEveryLineOnceAndMarksAnyHoleWithAGap) {
  constexpr int kLines = 200000;
  Collector collector(dataDir(), args("file"));
  ASSERT_TRUE(collector.waitConnected(60s)) << collector.process().err();
  std::string id = uniqueId("lfrot");
  // About 20 MB of json-file through 1 MB files, three kept: it rotates about 20 times.
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"......................... line $i\"; i=$((i+1)); done",
                  labelArg() + " --log-opt max-size=1m --log-opt max-file=3");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(180s));
  ASSERT_TRUE(collector.waitDrained(120s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  const std::string prefix = "......................... line ";
  long prev = -1;
  bool gapSincePrev = false;
  long missing = 0;
  std::string holes;
  for (const auto& l : all) {
    if (l.stream == LogStream::kSystem) {
      gapSincePrev = gapSincePrev || l.text.rfind("[GAP]", 0) == 0;
      continue;
    }
    ASSERT_EQ(l.text.rfind(prefix, 0), 0u) << l.text;
    long n = std::stol(l.text.substr(prefix.size()));
    ASSERT_GT(n, prev) << "line " << n << " after " << prev << " (lineNo " << l.lineNo
                       << "): repeated or out of order";
    if (n != prev + 1) {
      ASSERT_TRUE(gapSincePrev) << "lines " << prev + 1 << ".." << n - 1
                                << " missing without a [GAP] line (lineNo " << l.lineNo << ")\n"
                                << collector.process().err();
      missing += n - prev - 1;
      holes += " " + std::to_string(prev + 1) + ".." + std::to_string(n - 1);
    }
    prev = n;
    gapSincePrev = false;
  }
  if (prev != kLines - 1) {
    ASSERT_TRUE(gapSincePrev) << "the last lines after " << prev << " missing without a [GAP]";
    missing += kLines - 1 - prev;
  }
  if (missing > 0) {
    std::printf("RotationUnderAFlood: %ld of %d lines missing, each hole marked by [GAP]:%s\n",
                missing, kLines, holes.c_str());
  }
}

TEST_F(LogFileTest, LinesRotatedWhileTheCollectorWasDownAreReadFromTheRotatedFiles) {
  std::string id = uniqueId("lfdown");
  TempDir sync;
  // 1,000 lines; then, with the collector down, about 2 MB more through 200 kB files, eight
  // kept and compressed: the cursor's file is rotated and compressed before it is read again.
  TestContainer c(id, "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done; "
                      "while [ ! -f /sync/go ]; do sleep 0.1; done; "
                      "while [ $i -lt 21000 ]; do echo \"........................................"
                      "........................................ line $i\"; i=$((i+1)); done",
                  labelArg() + " --log-opt max-size=200k --log-opt max-file=20 "
                               "--log-opt compress=true -v " + sync.path() + ":/sync");
  ASSERT_TRUE(c.ok());
  {
    Collector first(dataDir(), args("file"));
    ASSERT_TRUE(first.waitConnected(60s)) << first.process().err();
    std::string body;
    ASSERT_TRUE(waitFor([&] {
      return httpGet(first.port(), "/api/deployments/" + id + "/logs?since=999&limit=1", &body) ==
                 200 && body.find("\"lineNo\":1000") != std::string::npos;
    }, 60s, 100ms)) << body;
    ASSERT_EQ(first.stop(), 0);
  }
  ASSERT_EQ(runCommand("touch " + sync.path() + "/go"), 0);
  ASSERT_TRUE(c.waitExited(120s));
  std::string logPath, rotated;
  docker("inspect -f '{{.LogPath}}' " + c.name(), &logPath);
  while (!logPath.empty() && logPath.back() == '\n') logPath.pop_back();
  runCommand("ls " + logPath + ".* 2>/dev/null | wc -l", &rotated);
  EXPECT_GE(std::stoi(rotated), 5) << "the log did not rotate";
  Collector second(dataDir(), args("file"));
  ASSERT_TRUE(second.waitDrained(120s)) << second.process().err();
  std::string metrics;
  ASSERT_EQ(httpGet(second.port(), "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("\nzynd_collector_log_gaps_total 0\n"), std::string::npos);
  ASSERT_EQ(second.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 21000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(lines[i].text, "line " + std::to_string(i));
  for (int i = 1000; i < 21000; ++i) {
    ASSERT_EQ(lines[i].text, std::string(80, '.') + " line " + std::to_string(i));
  }
}

TEST_F(LogFileTest, SwitchingBetweenApiAndFileAcrossRestartsMidFlood) {
  constexpr int kLines = 120000;
  std::string id = uniqueId("lfswitch");
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i\"; echo \"err $i\" >&2; i=$((i+1)); "
                          "if [ $((i % 20000)) -eq 0 ]; then sleep 1; fi; done",
                  labelArg());
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(std::random_device{}());
  const char* sources[] = {"file", "api", "file", "api", "file", "api"};
  for (int round = 0; round < 6; ++round) {
    Collector collector(dataDir(), args(sources[round]));
    ASSERT_TRUE(collector.waitConnected(60s)) << "round " << round << ": " << collector.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    if (round % 2 == 0) {
      collector.process().signal(SIGKILL);
      collector.process().wait(5s);
    } else {
      ASSERT_EQ(collector.stop(), 0);
    }
  }
  ASSERT_TRUE(c.waitExited(180s));
  Collector last(dataDir(), args("file"));
  ASSERT_TRUE(last.waitDrained(120s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  auto all = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(all), "");
  for (const auto& l : all) EXPECT_NE(l.text.rfind("[GAP]", 0), 0u) << l.text;
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), 2u * kLines);
  expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
  expectNumberedOnce(lines, LogStream::kStderr, "err ", kLines);
}

TEST_F(LogFileTest, TheDefaultReadsTheJsonFile) {
  // No log_source given: auto, the json-file of a json-file container the collector can read.
  Collector collector(dataDir(), {"--select-label", "zc.logfile-test=" + label_});
  ASSERT_TRUE(collector.waitConnected(60s)) << collector.process().err();
  std::string id = uniqueId("lfauto");
  TestContainer c(id, "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done",
                  labelArg());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  EXPECT_NE(collector.process().err().find("reading the json-file"), std::string::npos)
      << collector.process().err();
  EXPECT_EQ(storedCursor(id, c.name()).rfind("v2-", 0), 0u);
  auto lines = containerLines(readStoredLines(dataDir(), id));
  ASSERT_EQ(lines.size(), 1000u);
  expectNumberedOnce(lines, LogStream::kStdout, "line ", 1000);
}

TEST_F(LogFileTest, FileModeWithAnUnreadableFileFallsBackToTheApi) {
  // Another log driver: log_source=file follows through the API, with a warning.
  Collector collector(dataDir(), args("file"));
  ASSERT_TRUE(collector.waitConnected(60s)) << collector.process().err();
  std::string id = uniqueId("lflocal");
  TestContainer c(id, "i=0; while [ $i -lt 1000 ]; do echo \"line $i\"; i=$((i+1)); done",
                  labelArg() + " --log-driver local");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  EXPECT_NE(collector.process().err().find("following through the Engine API"), std::string::npos)
      << collector.process().err();
  EXPECT_EQ(storedCursor(id, c.name()).rfind("v1-", 0), 0u);
  auto lines = containerLines(readStoredLines(dataDir(), id));
  ASSERT_EQ(lines.size(), 1000u);
  expectNumberedOnce(lines, LogStream::kStdout, "line ", 1000);
}

}  // namespace
}  // namespace zc::testing
