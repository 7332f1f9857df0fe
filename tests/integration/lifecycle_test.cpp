// The deployment lifecycle against the real engine and a real Caddy: crash detection (exit code,
// OOM kill, each death of a crash loop once with its own code), restart by policy, health probes going unhealthy and recovering, metric samples,
// and stop with teardown (trapping and ignoring SIGTERM; route removed, port released). The
// DeploymentManager runs in-process with the real runtime and router plugins, so the test can
// watch the stored lines as they arrive; the system lines are checked byte for byte. Containers
// removed outside the collector (while it is down, and while it runs) go through the whole
// daemon, so that /api/ports is the one that answers.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "caddy_fixture.h"
#include "deployment_manager.h"
#include "docker_fixture.h"
#include "monitors.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;
using collector::DeploymentManager;

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_DOCKER_OR_SKIP();
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &systemClock();
    auto storage = registry_.create<plugin::Storage>("memory", ctx);
    ASSERT_TRUE(storage.isOk());
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->open().isOk());
    ctx.options["socket"] = dockerSocketPath();
    auto runtime = registry_.create<plugin::Runtime>("docker", ctx);
    ASSERT_TRUE(runtime.isOk()) << runtime.status().toString();
    runtime_ = std::move(runtime).value();
  }
  void TearDown() override {
    if (manager_) manager_->stop();
  }
  void startManager(collector::LifecycleOptions opts, plugin::Router* router = nullptr) {
    manager_ = std::make_unique<DeploymentManager>(*storage_, runtime_.get(), router, bus_,
                                                   systemClock(), opts);
    ASSERT_TRUE(manager_->start().isOk());
    ASSERT_TRUE(waitFor([&] { return manager_->runtimeConnected(); }, 20s));
  }
  std::vector<LogLine> lines(const std::string& id) {
    std::vector<LogLine> out;
    uint64_t since = 0;
    for (;;) {
      auto page = storage_->readLogs(id, since, 5000);
      if (!page.isOk() || page->lines.empty()) return out;
      since = page->lines.back().lineNo;
      for (auto& l : page->lines) out.push_back(std::move(l));
    }
  }
  std::vector<std::string> systemLines(const std::string& id) {
    std::vector<std::string> out;
    for (auto& l : lines(id)) {
      if (l.stream == LogStream::kSystem) out.push_back(l.text);
    }
    return out;
  }
  bool waitSystemLine(const std::string& id, const std::string& text, std::chrono::seconds t = 30s) {
    return waitFor([&] {
      for (const auto& s : systemLines(id)) {
        if (s == text) return true;
      }
      return false;
    }, t, 100ms);
  }
  int countSystemLines(const std::string& id, const std::string& prefix) {
    int n = 0;
    for (const auto& s : systemLines(id)) n += s.rfind(prefix, 0) == 0;
    return n;
  }
  DeploymentStatus status(const std::string& id) { return manager_->get(id).value().status; }

  NullLogger logger_;
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  host::PluginPtr<plugin::Runtime> runtime_;
  host::LiveBus bus_;
  std::unique_ptr<DeploymentManager> manager_;
};

TEST_F(LifecycleTest, ExitThreeIsACrashWithExactlyOneSystemLineAfterTheLastLines) {
  collector::LifecycleOptions opts;
  opts.keepCrashed = true;
  startManager(opts);
  std::string id = uniqueId("crash");
  TestContainer c(id, "echo one; echo two >&2; echo last; exit 3");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitSystemLine(id, "[CRASH] exit=3 oom=false"));
  EXPECT_EQ(status(id), DeploymentStatus::kCrashed);
  Deployment d = manager_->get(id).value();
  EXPECT_EQ(d.lastExitCode, 3);
  EXPECT_TRUE(d.lastCrashAt.has_value());
  auto all = lines(id);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all.back().text, "[CRASH] exit=3 oom=false");  // after the container's last lines
  std::this_thread::sleep_for(2s);  // no second record of the same death
  EXPECT_EQ(countSystemLines(id, "[CRASH]"), 1);
  std::string out;
  EXPECT_EQ(docker("inspect -f '{{.State.Status}}' " + c.name(), &out), 0);  // kept
}

TEST_F(LifecycleTest, OomKillIsReportedAndTheDeadContainerIsRemovedAfterTheGrace) {
  collector::LifecycleOptions opts;
  opts.crashGrace = 1s;
  startManager(opts);
  std::string id = uniqueId("oom");
  TestContainer c(id, "echo start; x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo never",
                  "-m 8m --memory-swap 8m");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitSystemLine(id, "[CRASH] exit=137 oom=true")) << ::testing::PrintToString(systemLines(id));
  EXPECT_EQ(status(id), DeploymentStatus::kCrashed);
  ASSERT_TRUE(waitFor([&] { return docker("inspect " + c.name()) != 0; }, 20s));  // removed
  EXPECT_TRUE(waitFor([&] { return manager_->get(id).value().containerId.empty(); }, 5s));
}

TEST_F(LifecycleTest, RestartPolicyBringsItBackToRunningAndLinesContinue) {
  startManager({});
  std::string id = uniqueId("policy");
  TestContainer c(id, "echo run; if [ -f /ran ]; then sleep 300; fi; touch /ran; exit 2",
                  "--restart on-failure:3");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitSystemLine(id, "[CRASH] exit=2 oom=false"));
  ASSERT_TRUE(waitFor([&] { return status(id) == DeploymentStatus::kRunning && countSystemLines(id, "[RESTART]") == 1; }, 30s))
      << ::testing::PrintToString(systemLines(id));
  ASSERT_TRUE(waitFor([&] {
    int runs = 0;
    for (auto& l : lines(id)) runs += l.text == "run";
    return runs == 2;
  }, 20s));
  auto all = lines(id);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].lineNo, i + 1);
  EXPECT_EQ(countSystemLines(id, "[CRASH]"), 1);
}

std::vector<std::string> texts(const std::vector<LogLine>& lines) {
  std::vector<std::string> out;
  for (const LogLine& l : lines) out.push_back(l.text);
  return out;
}

TEST_F(LifecycleTest, ACrashLoopRecordsEachDeathOnceWithItsOwnExitCode) {
  collector::LifecycleOptions opts;
  opts.keepCrashed = true;
  startManager(opts);
  std::string id = uniqueId("loop");
  // Four runs (three restarts), exiting with 1, 2, 3, 4: a counter kept in the container's own
  // file system, which outlives its runs.
  TestContainer c(id, "n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; "
                      "echo \"run $n\"; exit $n", "--restart on-failure:3");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return countSystemLines(id, "[CRASH]") >= 4; }, 60s))
      << ::testing::PrintToString(systemLines(id));
  ASSERT_TRUE(c.waitExited(30s));
  std::this_thread::sleep_for(2s);  // no late duplicate
  auto all = lines(id);
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
                                               "[CRASH] exit=3 oom=false", "[CRASH] exit=4 oom=false"}))
      << ::testing::PrintToString(systemLines(id));
  for (int r = 1; r <= 4; ++r) {
    ASSERT_LT(runAt[r], all.size()) << "run " << r << " not stored";
    EXPECT_GT(crashAt[r - 1], runAt[r]) << "[CRASH] of run " << r << " before its last line: "
                                        << ::testing::PrintToString(texts(all));
  }
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].lineNo, i + 1);
  Deployment d = manager_->get(id).value();
  EXPECT_EQ(d.lastExitCode, 4);
  EXPECT_EQ(d.status, DeploymentStatus::kCrashed);
}

TEST_F(LifecycleTest, HealthProbesGoUnhealthyAndRecover) {
  startManager({});
  std::string id = uniqueId("health");
  uint16_t port = freePort();
  TestContainer c(id, "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www",
                  "-p 127.0.0.1:" + std::to_string(port) + ":8080");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { auto d = manager_->get(id); return d.isOk() && d->hostPort == port; }, 20s));
  collector::HealthOptions hopts;
  hopts.interval = 200ms;
  hopts.timeout = 1s;
  collector::HealthProber prober(*manager_, hopts);
  ASSERT_TRUE(waitFor([&] { return collector::HealthProber::probe(port, 1s); }, 20s));
  prober.start();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(status(id), DeploymentStatus::kRunning);
  ASSERT_EQ(docker("exec " + c.name() + " rm /www/health"), 0);
  ASSERT_TRUE(waitSystemLine(id, "[UNHEALTHY] health probe failed 3 times", 20s));
  EXPECT_EQ(status(id), DeploymentStatus::kUnhealthy);
  ASSERT_EQ(docker("exec " + c.name() + " sh -c 'echo ok > /www/health'"), 0);
  ASSERT_TRUE(waitSystemLine(id, "[RECOVERED] health probe succeeded", 20s));
  EXPECT_EQ(status(id), DeploymentStatus::kRunning);
  prober.stop();
  EXPECT_EQ(countSystemLines(id, "[UNHEALTHY]"), 1);
}

TEST_F(LifecycleTest, MetricsSamplesHaveSaneValuesAndTheLimit) {
  startManager({});
  std::string id = uniqueId("metrics");
  TestContainer c(id, "while true; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 0.1; done",
                  "-m 1536m");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { auto d = manager_->get(id); return d.isOk() && !d->containerId.empty(); }, 20s));
  collector::SamplerOptions sopts;
  sopts.interval = 500ms;
  collector::MetricsSampler sampler(*manager_, *runtime_, *storage_, sopts);
  sampler.start();
  std::vector<MetricSample> samples;
  ASSERT_TRUE(waitFor([&] {
    auto r = storage_->readMetrics(id, 0, INT64_MAX);
    if (r.isOk()) samples = r.value();
    return samples.size() >= 3;
  }, 30s));
  sampler.stop();
  // The last pass is on record (for /healthz): it covered this deployment and stored its sample.
  collector::MetricsSampler::Sweep sweep = sampler.lastSweep();
  EXPECT_GE(sweep.count, 3u);
  EXPECT_GE(sweep.targets, 1u);
  EXPECT_GE(sweep.stored, 1u);
  EXPECT_GT(sweep.durationMs, 0.0);
  EXPECT_LT(sweep.durationMs, 30000.0);
  for (const auto& s : samples) {
    EXPECT_DOUBLE_EQ(s.memLimitMb, 1536.0);
    EXPECT_GT(s.memUsedMb, 0.0);
    EXPECT_LT(s.memUsedMb, 64.0);
    EXPECT_GE(s.cpuPct, 0.0);
    EXPECT_LE(s.cpuPct, 100.0 * std::thread::hardware_concurrency() + 1);
  }
  EXPECT_GT(samples.back().cpuPct, 1.0);  // the loop keeps a core partly busy
  EXPECT_GT(samples.front().cpuPct, 1.0);  // the first sample too: measured, not a 0
}

class StopTest : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    if (!std::filesystem::exists("/usr/bin/caddy")) {
      if (std::getenv("ZC_REQUIRE_CADDY")) FAIL() << "caddy required";
      GTEST_SKIP() << "no caddy";
    }
  }
  host::PluginPtr<plugin::Router> makeRouter(uint16_t admin) {
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &systemClock();
    ctx.options["admin_url"] = "http://127.0.0.1:" + std::to_string(admin);
    auto r = registry_.create<plugin::Router>("caddy", ctx);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? std::move(r).value() : nullptr;
  }
};

TEST_F(StopTest, AgentThatTrapsSigtermSaysGoodbyeAndEverythingIsReleased) {
  std::string id = uniqueId("trap");
  Caddy caddy({id, "other-route"});
  ASSERT_TRUE(waitFor([&] { return caddy.routeExists(id); }, 20s));
  auto router = makeRouter(caddy.admin());
  ASSERT_TRUE(router);
  collector::LifecycleOptions opts;
  opts.stopGrace = 10s;
  startManager(opts, router.get());
  uint16_t port = freePort();
  TestContainer c(id, "trap 'echo goodbye; exit 0' TERM; echo hello; while true; do sleep 0.1; done",
                  "-p 127.0.0.1:" + std::to_string(port) + ":8080");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] {
    for (auto& l : lines(id)) if (l.text == "hello") return true;
    return false;
  }, 20s));
  auto t0 = std::chrono::steady_clock::now();
  auto row = manager_->requestStop(id);
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(row->status, DeploymentStatus::kStopped);  // at once
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ASSERT_TRUE(waitFor([&] { return manager_->teardownComplete(id); }, 30s))
      << ::testing::PrintToString(systemLines(id));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);  // it left on SIGTERM, no SIGKILL wait
  bool goodbye = false;
  for (auto& l : lines(id)) goodbye |= l.text == "goodbye";
  EXPECT_TRUE(goodbye) << "the agent's last line was not captured";
  EXPECT_NE(docker("inspect " + c.name()), 0);  // removed
  EXPECT_FALSE(caddy.routeExists(id));
  EXPECT_TRUE(caddy.routeExists("other-route"));
  Deployment d = manager_->get(id).value();
  EXPECT_TRUE(d.containerId.empty());
  EXPECT_FALSE(d.hostPort.has_value());
  EXPECT_EQ(countSystemLines(id, "[CRASH]"), 0);  // a stop is never a crash
  auto sys = systemLines(id);
  ASSERT_FALSE(sys.empty());
  EXPECT_EQ(sys.front(), "[STOP] stop requested");
  EXPECT_EQ(sys.back(), "[STOP] teardown complete: port " + std::to_string(port) +
                            " released; container removed");
  // Idempotent: stopping again is fine and changes nothing.
  EXPECT_TRUE(manager_->requestStop(id).isOk());
}

TEST_F(StopTest, AgentThatIgnoresSigtermIsKilledAfterTheGrace) {
  std::string id = uniqueId("stubborn");
  Caddy caddy({id});
  ASSERT_TRUE(waitFor([&] { return caddy.routeExists(id); }, 20s));
  auto router = makeRouter(caddy.admin());
  collector::LifecycleOptions opts;
  opts.stopGrace = 2s;
  startManager(opts, router.get());
  TestContainer c(id, "trap '' TERM; echo stubborn; while true; do sleep 0.1; done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return manager_->get(id).isOk() && !manager_->get(id)->containerId.empty(); }, 20s));
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(manager_->requestStop(id).isOk());
  ASSERT_TRUE(waitFor([&] { return manager_->teardownComplete(id); }, 30s))
      << ::testing::PrintToString(systemLines(id));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 2s);  // waited the grace, then killed
  EXPECT_NE(docker("inspect " + c.name()), 0);
  EXPECT_FALSE(caddy.routeExists(id));
  EXPECT_EQ(countSystemLines(id, "[CRASH]"), 0);
}

// The real engine, with removals refused (a fault injected in front of it): the teardown gives up.
class RemovalRefusingRuntime final : public plugin::Runtime {
 public:
  explicit RemovalRefusingRuntime(plugin::Runtime& real) : real_(real) {}
  std::atomic<int> refuse{0};  // removals still to refuse

  Status connect() noexcept override { return real_.connect(); }
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override {
    return real_.listDeployments();
  }
  Result<plugin::ContainerInfo> inspect(std::string_view id) noexcept override {
    return real_.inspect(id);
  }
  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo& c,
                                                           std::string_view cursor,
                                                           plugin::LogConsumer* consumer) noexcept override {
    return real_.followLogs(c, cursor, consumer);
  }
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(plugin::EventConsumer* consumer) noexcept override {
    return real_.subscribeEvents(consumer);
  }
  Result<plugin::ResourceSample> sampleResources(std::string_view id) noexcept override {
    return real_.sampleResources(id);
  }
  std::vector<Result<plugin::ResourceSample>> sampleResourcesBatch(
      std::span<const std::string> ids, size_t maxInFlight) noexcept override {
    return real_.sampleResourcesBatch(ids, maxInFlight);
  }
  Status stopContainer(std::string_view id, std::chrono::seconds grace) noexcept override {
    return real_.stopContainer(id, grace);
  }
  Status removeContainer(std::string_view id, bool force) noexcept override {
    if (refuse.load() > 0) {
      refuse.fetch_sub(1);
      return Status::failedPrecondition("removal refused by the test");
    }
    return real_.removeContainer(id, force);
  }

 private:
  plugin::Runtime& real_;
};

TEST_F(LifecycleTest, ASecondStopRetriesATeardownThatGaveUp) {
  RemovalRefusingRuntime faulty(*runtime_);
  faulty.refuse = 3;  // three passes: given up
  collector::LifecycleOptions opts;
  opts.stopGrace = 1s;
  manager_ = std::make_unique<DeploymentManager>(*storage_, &faulty, nullptr, bus_, systemClock(),
                                                 opts);
  struct StopFirst {  // the manager stops before `faulty`, which it borrows, goes
    std::unique_ptr<DeploymentManager>& m;
    ~StopFirst() { m.reset(); }
  } stopFirst{manager_};
  ASSERT_TRUE(manager_->start().isOk());
  ASSERT_TRUE(waitFor([&] { return manager_->runtimeConnected(); }, 20s));
  std::string id = uniqueId("retry");
  TestContainer c(id, "echo up; while true; do sleep 0.1; done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return manager_->get(id).isOk() && !manager_->get(id)->containerId.empty(); }, 20s));
  std::string shortId = manager_->get(id)->containerId.substr(0, 12);
  ASSERT_TRUE(manager_->requestStop(id).isOk());
  ASSERT_TRUE(waitSystemLine(id, "[STOP] giving up on removing container " + shortId +
                                     "; it is left in place", 40s))
      << ::testing::PrintToString(systemLines(id));
  ASSERT_TRUE(waitFor([&] { return manager_->teardownComplete(id); }, 5s));
  EXPECT_EQ(docker("inspect " + c.name()), 0);  // left in place

  // The second stop is not "already stopped": the teardown runs again and now succeeds.
  auto again = manager_->requestStop(id);
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->status, DeploymentStatus::kStopped);
  EXPECT_TRUE(waitSystemLine(id, "[STOP] stop requested again; retrying the teardown", 5s));
  ASSERT_TRUE(waitSystemLine(id, "[STOP] teardown complete: container removed", 30s))
      << ::testing::PrintToString(systemLines(id));
  EXPECT_TRUE(manager_->teardownComplete(id));
  EXPECT_TRUE(manager_->get(id)->containerId.empty());
  EXPECT_NE(docker("inspect " + c.name()), 0);  // removed
}

TEST_F(StopTest, WithoutARouterTheRouteStepIsSkippedWithASystemLine) {
  startManager({});
  std::string id = uniqueId("norouter");
  TestContainer c(id, "sleep 300");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return manager_->get(id).isOk() && !manager_->get(id)->containerId.empty(); }, 20s));
  ASSERT_TRUE(manager_->requestStop(id).isOk());
  ASSERT_TRUE(waitFor([&] { return manager_->teardownComplete(id); }, 40s));
  EXPECT_TRUE(waitSystemLine(id, "[STOP] no router configured; route left in place", 1s));
}

// A container removed outside the collector, through the whole daemon: the row stops saying
// running, says so once with [GONE], is no longer probed, and its port leaves /api/ports.
class LifecycleGoneTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  static std::vector<std::string> args() {
    return {"--health-interval", "200ms", "--health-timeout", "500ms", "--metrics-interval", "500ms"};
  }
  static bool portListed(Collector& c, uint16_t port) {
    std::string body;
    return httpGet(c.port(), "/api/ports", &body) == 200 &&
           body.find("\"port\":" + std::to_string(port) + ",") != std::string::npos;
  }
  static std::string deployment(Collector& c, const std::string& id) {
    std::string body;
    httpGet(c.port(), "/api/deployments/" + id, &body);
    return body;
  }
  static int count(Collector& c, const std::string& id, const std::string& text) {
    std::string body;
    if (httpGet(c.port(), "/api/deployments/" + id + "/logs?since=0&limit=5000", &body) != 200) {
      return -1;
    }
    int n = 0;
    for (size_t at = body.find(text); at != std::string::npos; at = body.find(text, at + 1)) ++n;
    return n;
  }
  // A container answering /health on a loopback host port, followed and probed.
  void runProbed(Collector& c, TestContainer& container, uint16_t port) {
    ASSERT_TRUE(container.ok());
    ASSERT_TRUE(c.waitConnected(20s)) << c.process().err();
    ASSERT_TRUE(waitFor([&] { return portListed(c, port); }, 20s)) << deployment(c, container.id());
    ASSERT_TRUE(waitFor([&] { return collector::HealthProber::probe(port, 1s); }, 20s));
  }
  // The row is stopped without container, its port is not listed, and it stays so while probes
  // would have failed many times over.
  void expectGone(Collector& c, const std::string& id, uint16_t port) {
    ASSERT_TRUE(waitFor([&] {
      return deployment(c, id).find("\"status\":\"stopped\"") != std::string::npos;
    }, 10s)) << deployment(c, id);
    std::this_thread::sleep_for(2s);  // 10 health intervals
    std::string row = deployment(c, id);
    EXPECT_NE(row.find("\"status\":\"stopped\""), std::string::npos) << row;
    EXPECT_NE(row.find("\"containerId\":null"), std::string::npos) << row;
    EXPECT_NE(row.find("\"hostPort\":null"), std::string::npos) << row;
    EXPECT_FALSE(portListed(c, port));
    EXPECT_EQ(count(c, id, "[GONE] container removed outside the collector"), 1);
    std::string logs;
    httpGet(c.port(), "/api/deployments/" + id + "/logs?since=0&limit=5000", &logs);
    EXPECT_EQ(count(c, id, "[UNHEALTHY]"), 0) << logs;
  }
  TempDir dir_;
};

TEST_F(LifecycleGoneTest, ContainerRemovedWhileTheCollectorIsDown) {
  std::string id = uniqueId("gone");
  uint16_t port = freePort();
  TestContainer container(id, "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www",
                          "-p 127.0.0.1:" + std::to_string(port) + ":8080");
  {
    Collector first(dataDir(), args());
    runProbed(first, container, port);
    ASSERT_EQ(first.stop(), 0);
  }
  ASSERT_EQ(docker("rm -f " + container.name()), 0);
  Collector second(dataDir(), args());
  ASSERT_TRUE(second.waitConnected(20s)) << second.process().err();
  expectGone(second, id, port);
  EXPECT_EQ(second.stop(), 0);
}

TEST_F(LifecycleGoneTest, ContainerRemovedWhileTheCollectorRuns) {
  std::string id = uniqueId("gone");
  uint16_t port = freePort();
  TestContainer container(id, "mkdir -p /www && echo ok > /www/health && exec httpd -f -p 8080 -h /www",
                          "-p 127.0.0.1:" + std::to_string(port) + ":8080");
  Collector c(dataDir(), args());
  runProbed(c, container, port);
  ASSERT_EQ(docker("rm -f " + container.name()), 0);
  expectGone(c, id, port);
  EXPECT_EQ(c.stop(), 0);
}

}  // namespace
}  // namespace zc::testing
