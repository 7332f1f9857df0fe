// The Docker engine restarted under a running collector: the collector stays up, reconnects,
// reconciles, and ends with exactly the lines the engine still holds (each once), and follows
// containers started after the restart. Only runs against an engine that scripts/start-dockerd.sh
// started (it must be stopped and started again); never touches anyone else's engine.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

bool engineIsOurs() { return access("/tmp/zc-dockerd.pid", R_OK) == 0; }

int script(const std::string& name) {
  return runCommand(std::string(ZC_SOURCE_DIR) + "/scripts/" + name + " >/dev/null 2>&1");
}

// The engine's own log of a container, one stdout line per entry.
std::vector<std::string> engineStdout(const std::string& container) {
  std::string out;
  docker("logs " + container, &out);
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(EngineRestartTest, CollectorReconnectsAndStoresExactlyTheEnginesLog) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (!engineIsOurs()) GTEST_SKIP() << "the engine was not started by scripts/start-dockerd.sh";
  TempDir dir;
  std::string data = dir.path() + "/data";
  Collector collector(data, {"--keep-crashed", "true"});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();

  std::string before = uniqueId("engine");
  // Killed by the engine's shutdown part-way through (stop timeout 1 s: sh as pid 1 ignores TERM).
  std::string name = "zynd-" + before;
  ASSERT_EQ(docker("run -d --name " + name + " --label zynd.test=1 --stop-timeout 1 " + testImage() +
                   " sh -c 'i=0; while [ $i -lt 100000 ]; do echo \"line $i\"; i=$((i+1)); "
                   "usleep 100; done'"),
            0);
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(script("stop-dockerd.sh"), 0);
  // The collector keeps serving while the engine is away.
  std::string body;
  EXPECT_EQ(httpGet(collector.port(), "/healthz", &body), 200);
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(script("start-dockerd.sh"), 0);
  ASSERT_TRUE(dockerAvailable());

  std::string after = uniqueId("after");
  TestContainer c2(after, "i=0; while [ $i -lt 500 ]; do echo \"after $i\"; i=$((i+1)); done");
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE(c2.waitExited(30s));
  ASSERT_TRUE(waitFor([&] {
    std::string out;
    docker("inspect -f '{{.State.Running}}' " + name, &out);
    return out.rfind("false", 0) == 0;
  }, 30s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  std::vector<std::string> engineLog = engineStdout(name);
  ASSERT_EQ(collector.stop(), 0);
  docker("rm -f " + name);

  auto all = readStoredLines(data, before);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_GT(engineLog.size(), 0u);
  ASSERT_EQ(lines.size(), engineLog.size());
  // It died while the event stream was down: the reconcile after the reconnect records that
  // death, exactly once.
  int crashes = 0;
  for (const auto& l : all) crashes += l.text.rfind("[CRASH] exit=", 0) == 0;
  EXPECT_EQ(crashes, 1);
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(lines[i].text, engineLog[i]) << i;
  auto afterAll = readStoredLines(data, after);
  EXPECT_EQ(checkContiguous(afterAll), "");
  EXPECT_EQ(containerLines(afterAll).size(), 500u);
}

}  // namespace
}  // namespace zc::testing
