// /healthz and /readyz of the whole daemon as a probe sees them:
//   - an engine socket that does not answer: /readyz 503 (no first discovery), /healthz 200 with
//     "degraded" for the first 30 s, then 503; once the socket answers (a link to the real
//     engine's appears at that path) /readyz and /healthz are 200.
//   - storage on a full disk (a small tmpfs): /healthz 503 with the storage's reason, /readyz
//     stays 200; 200 again once space is freed.
// The shared engine is never stopped; the test's container and mount are removed at the end.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "collector_process.h"
#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

TEST(HealthProbeDaemonTest, ReadyAfterTheFirstDiscoveryAndUnhealthyWhileTheEngineIsAway) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  TempDir dir;
  const std::string socket = dir.path() + "/engine.sock";  // nothing there yet
  const uint16_t port = freePort();
  const auto started = std::chrono::steady_clock::now();
  ChildProcess d(collectorArgv({"--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                                dir.path() + "/data", "--docker-socket", socket, "--router",
                                "none"}));
  std::string body;
  ASSERT_TRUE(waitFor([&] { return httpGet(port, "/healthz", &body) > 0; }, 20s)) << d.err();

  // Before the first discovery: not ready; healthy enough while the engine is away < 30 s.
  EXPECT_EQ(httpGet(port, "/readyz", &body), 503);
  EXPECT_EQ(body, R"({"checks":{"discovery":false,"storage":true},"ready":false})");
  EXPECT_EQ(httpGet(port, "/healthz", &body), 200) << body;
  EXPECT_NE(body.find(R"("status":"degraded")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("connected":false)"), std::string::npos) << body;

  // Away for longer than 30 s: unhealthy, the same JSON.
  ASSERT_TRUE(waitFor([&] { return httpGet(port, "/healthz", &body) == 503; }, 45s, 250ms))
      << body << d.err();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 29s);
  EXPECT_NE(body.find(R"("status":"degraded")"), std::string::npos) << body;
  EXPECT_EQ(httpGet(port, "/readyz"), 503);

  // The engine answers at that path: the runtime connects (its retry is at most 30 s apart),
  // the first discovery runs, and both probes pass.
  std::filesystem::create_symlink(dockerSocketPath(), socket);
  ASSERT_TRUE(waitFor([&] { return httpGet(port, "/readyz", &body) == 200; }, 60s, 250ms))
      << body << d.err();
  EXPECT_EQ(body, R"({"checks":{"discovery":true,"storage":true},"ready":true})");
  ASSERT_TRUE(waitFor([&] { return httpGet(port, "/healthz", &body) == 200; }, 10s)) << body;
  EXPECT_NE(body.find(R"("status":"ok")"), std::string::npos) << body;
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
}

TEST(HealthProbeDaemonTest, StorageOnAFullDiskIsUnhealthyButStaysReady) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  SmallTmpfs disk(dir.path() + "/small", 48);
  ASSERT_TRUE(disk.mounted());
  const std::string filler = dir.path() + "/small/filler";
  ASSERT_EQ(runCommand("head -c 40000000 /dev/zero > " + filler), 0);

  Collector collector(dir.path() + "/small/data", {"--router", "none"});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string body;
  ASSERT_EQ(httpGet(collector.port(), "/readyz", &body), 200) << body;
  // About 20 MB of log: more than the space left. The container then idles until removed.
  TestContainer c(uniqueId("hprobe"),
                  "i=0; while [ $i -lt 200000 ]; do echo \"line $i ....................."
                  "...........................................................\"; i=$((i+1)); "
                  "done; while true; do sleep 1; done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return httpGet(collector.port(), "/healthz", &body) == 503; }, 120s,
                      100ms))
      << body << collector.process().err();
  EXPECT_NE(body.find(R"("status":"degraded")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("ok":false)"), std::string::npos) << body;
  EXPECT_EQ(httpGet(collector.port(), "/readyz"), 200);

  std::filesystem::remove(filler);
  ASSERT_TRUE(waitFor([&] { return httpGet(collector.port(), "/healthz", &body) == 200; }, 120s,
                      200ms))
      << body << collector.process().err();
  EXPECT_EQ(collector.stop(), 0);
}

}  // namespace
}  // namespace zc::testing
