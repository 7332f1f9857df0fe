// Faults the collector must ride out without losing a line the engine still holds.
//   - Collector kill -9 at random moments during a multi-container flood, 50 times.
//   - Engine restart (stop and start dockerd) during a flood, 3 times.
//   - Disk full: the data folder is a small tmpfs that fills during a flood. The collector
//     reports degraded in /healthz (503), keeps serving, does not crash-loop, and after space is freed
//     catches up: every line stored once, lineNos contiguous. A DELETE while the disk is full
//     stops the container at once but removes it only after its whole log is stored.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

TEST(FaultTest, DiskFullDegradesThenCatchesUpWithNoLoss) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  SmallTmpfs disk(dir.path() + "/small", 48);
  ASSERT_TRUE(disk.mounted());
  std::string filler = dir.path() + "/small/filler";
  ASSERT_EQ(runCommand("head -c 40000000 /dev/zero > " + filler), 0);

  std::string data = dir.path() + "/small/data";
  std::string id = uniqueId("diskfull");
  const std::string label = "zc.fault-test=" + id;
  Collector collector(data, {"--keep-crashed", "true", "--select-label", label});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  constexpr int kLines = 200000;
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i ................................................"
                          "..............................\"; i=$((i+1)); done",
                  "--label " + label);
  ASSERT_TRUE(c.ok());

  // Degraded, but alive and answering.
  std::string body;
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/healthz", &body) == 503 &&
           body.find("\"status\":\"degraded\"") != std::string::npos;
  }, 120s, 100ms)) << body << collector.process().err();
  EXPECT_NE(body.find("\"ok\":false"), std::string::npos) << body;
  std::this_thread::sleep_for(2s);
  // Still answering: 503 while the store fails, or 200 when a write has just gone through (a
  // flush can free a little space before the filler goes).
  const int code = httpGet(collector.port(), "/healthz");
  EXPECT_TRUE(code == 503 || code == 200) << code;
  EXPECT_EQ(collector.process().wait(0ms), -1) << "the collector exited";

  // Space comes back: it catches up by itself.
  std::filesystem::remove(filler);
  ASSERT_TRUE(c.waitExited(120s));
  ASSERT_TRUE(collector.waitDrained(180s)) << collector.process().err();
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/healthz", &body) == 200 &&
           body.find("\"status\":\"ok\"") != std::string::npos;
  }, 30s)) << body;
  ASSERT_EQ(collector.stop(), 0);

  auto all = readStoredLines(data, id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(lines[i].text.rfind("line " + std::to_string(i) + " ", 0), 0u) << lines[i].text;
  }
}

TEST(FaultTest, DeleteWhileTheDiskIsFullRemovesTheContainerOnlyAfterItsLogIsStored) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  SmallTmpfs disk(dir.path() + "/small", 48);
  ASSERT_TRUE(disk.mounted());
  std::string filler = dir.path() + "/small/filler";
  ASSERT_EQ(runCommand("head -c 40000000 /dev/zero > " + filler), 0);

  std::string data = dir.path() + "/small/data";
  std::string id = uniqueId("fulldelete");
  const std::string label = "zc.fault-test=" + id;
  Collector collector(data, {"--stop-grace", "1s", "--select-label", label});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  constexpr int kLines = 100000;
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i ................................................"
                          "..............................\"; i=$((i+1)); done; echo written; "
                          "while true; do sleep 1; done", "--label " + label);
  ASSERT_TRUE(c.ok());
  // The lines compress well: the rest of the tmpfs is filled too, and kept full, so that storage
  // refuses them: whatever RocksDB frees (a failed flush's table, a log file's preallocated
  // tail) is taken again at once.
  DiskFiller rest(dir.path() + "/small/rest");
  ASSERT_TRUE(rest.ok());
  std::string body;
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/healthz", &body) == 503 &&
           body.find("\"status\":\"degraded\"") != std::string::npos;
  }, 120s, 100ms)) << body << collector.process().err();
  std::string tail;
  ASSERT_TRUE(waitFor([&] {
    tail.clear();  // runCommand appends
    return docker("logs --tail 1 " + c.name(), &tail) == 0 && tail == "written\n";
  }, 120s, 200ms)) << tail;

  // Stopped at once; the container stays while its log cannot be stored.
  ASSERT_EQ(httpCall(collector.port(), "DELETE", "/api/deployments/" + id, &body), 202) << body;
  EXPECT_NE(body.find("\"status\":\"stopped\""), std::string::npos) << body;
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(1s);
    if (docker("inspect " + c.name()) == 0) continue;
    // Removed: say whether its last line had been stored by then (a lost log) or storage
    // had taken the lines after all (a disk that was not kept full).
    httpGet(collector.port(), "/api/deployments/" + id + "/logs?q=written&stream=stdout", &body);
    FAIL() << "removed " << i << " s after the stop; its last line "
           << (body.find("\"text\":\"written\"") != std::string::npos ? "was" : "was NOT")
           << " stored then\n" << collector.process().err();
  }
  EXPECT_EQ(collector.process().wait(0ms), -1) << "the collector exited";

  // Space comes back: the log is stored to its end, then the container goes.
  rest.stop();
  std::filesystem::remove(filler);
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/api/deployments/" + id, &body) == 200 &&
           body.find("\"containerId\":null") != std::string::npos;
  }, 180s, 200ms)) << body << collector.process().err();
  EXPECT_NE(docker("inspect " + c.name()), 0);
  ASSERT_EQ(collector.stop(), 0);

  auto all = readStoredLines(data, id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines + 1));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(lines[i].text.rfind("line " + std::to_string(i) + " ", 0), 0u) << lines[i].text;
  }
  EXPECT_EQ(lines.back().text, "written");
  uint64_t removedAt = 0;
  for (const LogLine& l : all) {
    if (l.stream == LogStream::kSystem && l.text.rfind("[STOP] teardown complete", 0) == 0) {
      removedAt = l.lineNo;
    }
  }
  EXPECT_GT(removedAt, lines.back().lineNo) << "removed before its last line was stored";
}

// A flooding container: `count` lines "<tag> <n>" with a pause every `pauseEvery` lines.
std::string floodScript(const std::string& tag, int count, int pauseEvery) {
  return "i=0; while [ $i -lt " + std::to_string(count) + " ]; do echo \"" + tag +
         " $i\"; i=$((i+1)); if [ $((i % " + std::to_string(pauseEvery) +
         ")) -eq 0 ]; then usleep 200000; fi; done";
}

TEST(FaultTest, KillNineFiftyTimesDuringAMultiContainerFlood) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  TempDir dir;
  std::string data = dir.path() + "/data";
  constexpr int kContainers = 3;
  constexpr int kLines = 40000;
  // Its own label, selected: other containers on the engine are not followed.
  const std::string label = "zc.fault-test=" + uniqueId("kill50");
  const std::vector<std::string> args = {"--keep-crashed", "true", "--select-label", label};
  std::vector<std::unique_ptr<TestContainer>> containers;
  for (int i = 0; i < kContainers; ++i) {
    containers.push_back(std::make_unique<TestContainer>(
        uniqueId("flood" + std::to_string(i)), floodScript("c" + std::to_string(i), kLines, 2000),
        "--label " + label));
    ASSERT_TRUE(containers.back()->ok());
  }
  std::mt19937 rng(std::random_device{}());
  auto deadline = std::chrono::steady_clock::now() + 240s;
  for (int round = 0; round < 50 && std::chrono::steady_clock::now() < deadline; ++round) {
    Collector collector(data, args);
    // Kill at a random moment: sometimes before it is even connected, mostly while it follows.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 500));
    collector.process().signal(SIGKILL);
    ASSERT_NE(collector.process().wait(5s), 0) << "round " << round;
  }
  for (auto& c : containers) ASSERT_TRUE(c->waitExited(180s));
  Collector last(data, args);
  ASSERT_TRUE(last.waitDrained(180s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  for (int i = 0; i < kContainers; ++i) {
    auto all = readStoredLines(data, containers[i]->id());
    EXPECT_EQ(checkContiguous(all), "") << containers[i]->id();
    auto lines = containerLines(all);
    ASSERT_EQ(lines.size(), static_cast<size_t>(kLines)) << containers[i]->id();
    expectNumberedOnce(lines, LogStream::kStdout, "c" + std::to_string(i) + " ", kLines);
  }
}

TEST(FaultTest, EngineRestartedThreeTimesDuringAFloodLosesNothingTheEngineHolds) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (access("/tmp/zc-dockerd.pid", R_OK) != 0) {
    GTEST_SKIP() << "the engine was not started by scripts/start-dockerd.sh";
  }
  auto script = [](const std::string& name) {
    return runCommand(std::string(ZC_SOURCE_DIR) + "/scripts/" + name + " >/dev/null 2>&1");
  };
  TempDir dir;
  std::string data = dir.path() + "/data";
  Collector collector(data, {"--keep-crashed", "true"});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::vector<std::string> ids;
  for (int round = 0; round < 3; ++round) {
    std::string id = uniqueId("engine" + std::to_string(round));
    ids.push_back(id);
    // Killed by the engine's shutdown part-way (stop timeout 1 s); not restarted afterwards.
    ASSERT_EQ(docker("run -d --name zynd-" + id + " --label zynd.test=1 --stop-timeout 1 " +
                     testImage() + " sh -c 'i=0; while [ $i -lt 100000 ]; do echo \"line $i\"; "
                     "i=$((i+1)); usleep 100; done'"),
              0);
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(script("stop-dockerd.sh"), 0);
    EXPECT_EQ(httpGet(collector.port(), "/healthz"), 200) << "round " << round;
    ASSERT_EQ(script("start-dockerd.sh"), 0);
    ASSERT_TRUE(collector.waitConnected(60s));
  }
  ASSERT_TRUE(collector.waitDrained(120s)) << collector.process().err();
  std::vector<std::vector<std::string>> engineLogs;
  for (const auto& id : ids) {
    std::string out;
    docker("logs zynd-" + id, &out);
    std::vector<std::string> log;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) log.push_back(l);
    engineLogs.push_back(std::move(log));
  }
  ASSERT_EQ(collector.stop(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    docker("rm -f zynd-" + ids[i]);
    auto all = readStoredLines(data, ids[i]);
    EXPECT_EQ(checkContiguous(all), "");
    auto lines = containerLines(all);
    ASSERT_GT(engineLogs[i].size(), 0u);
    ASSERT_EQ(lines.size(), engineLogs[i].size()) << ids[i];
    for (size_t k = 0; k < lines.size(); ++k) ASSERT_EQ(lines[k].text, engineLogs[i][k]) << k;
    int crashes = 0;
    for (const auto& l : all) crashes += l.text.rfind("[CRASH] exit=", 0) == 0;
    EXPECT_EQ(crashes, 1) << ids[i];  // died while the event stream was down: recorded once
  }
}

}  // namespace
}  // namespace zc::testing
