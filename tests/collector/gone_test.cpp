// Rows follow their containers (DeploymentManager, container_gone.cpp) against a fake runtime: a
// container removed while the collector was down or by someone else while it runs leaves the row
// `stopped` without container and port and one `[GONE]` line; a container the collector's own
// teardown removes is not gone; a stopped deployment's teardown is complete only once its route
// is removed, whoever removed its container and when; monitors wait for the first reconcile;
// resource gauges are only given for running deployments; a deployment without container whose
// data has all expired is forgotten (row, lines, samples).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "collector_api_impl.h"
#include "crash_tracker.h"
#include "deployment_manager.h"
#include "collector_process.h"
#include "monitors.h"
#include "test_support.h"
#include "zc/host/plugin_loader.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// Shut until opened; counts who came to wait.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mu_);
    ++arrived_;
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int arrived() {
    std::lock_guard lock(mu_);
    return arrived_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int arrived_ = 0;
};

// Containers that exist until removed; follows deliver nothing and end only when stopped;
// removeContainer() removes. stopContainer() of the container named by holdStopOf waits for
// holdStop.
class FakeRuntime final : public plugin::Runtime {
 public:
  void add(const std::string& deploymentId, const std::string& containerId,
           std::optional<int> port) {
    plugin::ContainerInfo c;
    c.deploymentId = deploymentId;
    c.containerId = containerId;
    c.name = "zynd-" + deploymentId;
    c.running = true;
    c.hostPort = port;
    c.startedAt = systemClock().now();
    std::lock_guard lock(mu_);
    containers_[containerId] = c;
  }
  void remove(const std::string& containerId) {
    std::lock_guard lock(mu_);
    containers_.erase(containerId);
  }
  // A listing leaves the container out, as the Docker runtime does when its inspect fails.
  void skipInListing(const std::string& containerId, bool skip) {
    std::lock_guard lock(mu_);
    if (skip) {
      skipped_.insert(containerId);
    } else {
      skipped_.erase(containerId);
    }
  }
  int listings() const { return listings_.load(); }

  std::atomic<bool> reachable{true};
  Status connect() noexcept override {
    return reachable ? Status::ok() : Status::unavailable("engine not there");
  }
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override {
    std::lock_guard lock(mu_);
    listings_.fetch_add(1);
    std::vector<plugin::ContainerInfo> out;
    for (auto& [id, c] : containers_) {
      if (!skipped_.contains(id)) out.push_back(c);
    }
    return out;
  }
  Result<plugin::ContainerInfo> inspect(std::string_view id) noexcept override {
    std::lock_guard lock(mu_);
    auto it = containers_.find(std::string(id));
    if (it == containers_.end()) return Status::notFound("no such container");
    return it->second;
  }
  class Idle final : public plugin::Subscription {
   public:
    void stop() noexcept override {}
  };
  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo&,
                                                           std::string_view,
                                                           plugin::LogConsumer*) noexcept override {
    return std::unique_ptr<plugin::Subscription>(new Idle);
  }
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(
      plugin::EventConsumer* c) noexcept override {
    plugin::RuntimeEvent ev;
    ev.type = plugin::RuntimeEventType::kConnected;
    c->onEvent(ev);
    return std::unique_ptr<plugin::Subscription>(new Idle);
  }
  Result<plugin::ResourceSample> sampleResources(std::string_view) noexcept override {
    return Status::notFound("not scripted");
  }
  std::string holdStopOf;  // set before start()
  Gate holdStop;
  Status stopContainer(std::string_view id, std::chrono::seconds) noexcept override {
    if (id == holdStopOf) holdStop.wait();
    return Status::ok();
  }
  Status removeContainer(std::string_view id, bool) noexcept override {
    remove(std::string(id));
    return Status::ok();
  }

 private:
  std::mutex mu_;
  std::map<std::string, plugin::ContainerInfo> containers_;
  std::set<std::string> skipped_;
  std::atomic<int> listings_{0};
};

// Records the routes removed; removeRoute() waits for `hold` when holding.
class FakeRouter final : public plugin::Router {
 public:
  bool holding = false;  // set before start()
  Gate hold;
  Status removeRoute(std::string_view routeId) noexcept override {
    if (holding) hold.wait();
    std::lock_guard lock(mu_);
    removed_.emplace_back(routeId);
    return Status::ok();
  }
  std::vector<std::string> removed() {
    std::lock_guard lock(mu_);
    return removed_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> removed_;
};

class GoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &clock_;
    auto s = registry_.create<plugin::Storage>("memory", ctx);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    storage_ = std::move(s).value();
    ASSERT_TRUE(storage_->open().isOk());
  }
  void TearDown() override {
    // A test that failed while a step was held must not leave the teardown thread waiting.
    runtime_.holdStop.open();
    router_.hold.open();
    if (manager_) manager_->stop();
  }
  void start(LifecycleOptions opts = {}, bool waitReconciled = true) {
    manager_ =
        std::make_unique<DeploymentManager>(*storage_, &runtime_, &router_, bus_, clock_, opts);
    ASSERT_TRUE(manager_->start().isOk());
    if (!waitReconciled) return;
    ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->rowsReconciled(); }, 10s));
  }
  std::vector<std::string> systemLines(const std::string& id) {
    std::vector<std::string> out;
    auto page = storage_->readLogs(id, 0, 5000);
    if (!page.isOk()) return out;
    for (auto& l : page->lines) {
      if (l.stream == LogStream::kSystem) out.push_back(l.text);
    }
    return out;
  }
  int count(const std::string& id, const std::string& text) {
    auto lines = systemLines(id);
    return static_cast<int>(std::count(lines.begin(), lines.end(), text));
  }
  Deployment row(const std::string& id) { return manager_->get(id).value(); }
  void deliver(plugin::RuntimeEventType type, const std::string& id, const std::string& cid) {
    plugin::RuntimeEvent ev;
    ev.type = type;
    ev.deploymentId = id;
    ev.containerId = cid;
    manager_->onEvent(ev);
  }

  static constexpr const char* kGone = "[GONE] container removed outside the collector";
  ManualClock clock_{systemClock().now()};
  zc::testing::NullLogger logger_;
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  host::LiveBus bus_;
  FakeRuntime runtime_;
  FakeRouter router_;
  std::unique_ptr<DeploymentManager> manager_;
};

TEST_F(GoneTest, AContainerRemovedWhileTheCollectorWasDownLeavesTheRowStopped) {
  Deployment d;
  d.id = "dep-1";
  d.status = DeploymentStatus::kRunning;
  d.containerId = "c0ffee";
  d.hostPort = 8080;
  ASSERT_TRUE(storage_->putDeployment(d).isOk());
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return count("dep-1", kGone) == 1; }, 5s));
  Deployment r = row("dep-1");
  EXPECT_EQ(r.status, DeploymentStatus::kStopped);
  EXPECT_TRUE(r.containerId.empty());
  EXPECT_FALSE(r.hostPort.has_value());
  EXPECT_TRUE(manager_->teardownComplete("dep-1"));  // nothing left for a teardown
  auto stored = storage_->getDeployment("dep-1");
  ASSERT_TRUE(stored.isOk());
  EXPECT_EQ(stored->status, DeploymentStatus::kStopped);
  EXPECT_FALSE(stored->hostPort.has_value());
}

TEST_F(GoneTest, AContainerALaterListingSkippedIsPickedUpByThePeriodicReconcile) {
  runtime_.add("dep-a", "aaa", 8081);
  runtime_.add("dep-b", "bbb", 8082);
  runtime_.skipInListing("aaa", true);  // its inspect fails: the others are followed
  LifecycleOptions opts;
  opts.reconcileInterval = 200ms;
  start(opts);
  EXPECT_TRUE(manager_->get("dep-b").isOk());
  EXPECT_FALSE(manager_->get("dep-a").isOk());
  // No event, no reconnect: the periodic reconcile asks again.
  runtime_.skipInListing("aaa", false);
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->get("dep-a").isOk(); }, 5s));
  EXPECT_EQ(row("dep-a").containerId, "aaa");
  EXPECT_EQ(row("dep-a").status, DeploymentStatus::kRunning);
}

TEST_F(GoneTest, ThePeriodicReconcileWaitsWhileTheRuntimeIsNotConnected) {
  runtime_.reachable = false;
  LifecycleOptions opts;
  opts.reconcileInterval = 100ms;
  start(opts, false);
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(runtime_.listings(), 0);
}

TEST_F(GoneTest, NothingIsProbedBeforeTheRowsAreReconciled) {
  Deployment d;
  d.id = "dep-1";
  d.status = DeploymentStatus::kRunning;
  d.containerId = "c0ffee";
  d.hostPort = zc::testing::freePort();  // nothing answers there
  ASSERT_TRUE(storage_->putDeployment(d).isOk());
  runtime_.add("dep-1", "c0ffee", *d.hostPort);  // inspect would say it runs
  runtime_.reachable = false;
  start({}, /*waitReconciled=*/false);
  HealthOptions hopts;
  hopts.timeout = 200ms;
  HealthProber prober(*manager_, hopts);
  for (int i = 0; i < 5; ++i) prober.runOnce();
  EXPECT_FALSE(manager_->rowsReconciled());
  EXPECT_EQ(row("dep-1").status, DeploymentStatus::kRunning);
  EXPECT_EQ(count("dep-1", "[UNHEALTHY] health probe failed 3 times"), 0);
  prober.stop();
}

TEST_F(GoneTest, ADestroyEventOfTheRowsContainerMakesItGoneOnce) {
  runtime_.add("dep-1", "c0ffee", 8080);
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  EXPECT_EQ(row("dep-1").hostPort, 8080);
  runtime_.remove("c0ffee");
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "c0ffee");
  ASSERT_TRUE(zc::testing::waitFor([&] { return count("dep-1", kGone) == 1; }, 5s));
  Deployment r = row("dep-1");
  EXPECT_EQ(r.status, DeploymentStatus::kStopped);
  EXPECT_TRUE(r.containerId.empty());
  EXPECT_FALSE(r.hostPort.has_value());
  EXPECT_EQ(manager_->activeFollows(), 0u);
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "c0ffee");  // again: nothing new
  deliver(plugin::RuntimeEventType::kConnected, "", "");          // a reconcile: nothing new
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("dep-1", kGone), 1);
}

TEST_F(GoneTest, TheDestroyOfAnOlderContainerLeavesTheRowAlone) {
  runtime_.add("dep-1", "c0ffee", 8080);
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "0ld");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(row("dep-1").status, DeploymentStatus::kRunning);
  EXPECT_EQ(row("dep-1").containerId, "c0ffee");
  EXPECT_EQ(count("dep-1", kGone), 0);
}

TEST_F(GoneTest, AContainerTheTeardownRemovesIsNotGone) {
  runtime_.add("dep-1", "c0ffee", 8080);
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  ASSERT_TRUE(manager_->requestStop("dep-1").isOk());
  // The engine's destroy event of the teardown's removal (or of anyone's, once stopped).
  runtime_.remove("c0ffee");
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "c0ffee");
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->teardownComplete("dep-1"); }, 20s));
  EXPECT_EQ(count("dep-1", kGone), 0);
  EXPECT_EQ(row("dep-1").status, DeploymentStatus::kStopped);
  auto lines = systemLines("dep-1");
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("[STOP] teardown complete: port 8080 released;", 0), 0u)
      << ::testing::PrintToString(lines);
}

// The engine's destroy event (of the teardown's own removal, or anyone's) may come before the
// teardown has removed the route: the teardown is not complete until it has.
TEST_F(GoneTest, ATeardownIsCompleteOnlyOnceItsRouteIsRemoved) {
  runtime_.add("dep-1", "c0ffee", std::nullopt);  // no port: only the route is left to release
  router_.holding = true;
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  ASSERT_TRUE(manager_->requestStop("dep-1").isOk());
  runtime_.remove("c0ffee");
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "c0ffee");  // ends its follow too
  ASSERT_TRUE(zc::testing::waitFor([&] { return router_.hold.arrived() == 1; }, 20s));
  EXPECT_TRUE(row("dep-1").containerId.empty());
  EXPECT_FALSE(manager_->teardownComplete("dep-1"));
  router_.hold.open();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->teardownComplete("dep-1"); }, 5s));
  EXPECT_EQ(router_.removed(), std::vector<std::string>{"dep-1"});
  EXPECT_EQ(systemLines("dep-1").back(), "[STOP] teardown complete: container removed");
  EXPECT_EQ(count("dep-1", kGone), 0);
}

// A stop waiting its turn (the teardown is busy with another deployment) whose container someone
// else removes meanwhile still has its route removed and its teardown completed.
TEST_F(GoneTest, AStopWhoseContainerIsRemovedBeforeItsTurnStillRemovesItsRoute) {
  runtime_.add("dep-a", "aaa", std::nullopt);
  runtime_.add("dep-b", "bbb", std::nullopt);
  runtime_.holdStopOf = "aaa";
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 2; }, 5s));
  ASSERT_TRUE(manager_->requestStop("dep-a").isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return runtime_.holdStop.arrived() == 1; }, 20s));
  ASSERT_TRUE(manager_->requestStop("dep-b").isOk());
  runtime_.remove("bbb");
  deliver(plugin::RuntimeEventType::kDestroy, "dep-b", "bbb");
  ASSERT_TRUE(zc::testing::waitFor([&] { return row("dep-b").containerId.empty(); }, 5s));
  EXPECT_FALSE(manager_->teardownComplete("dep-b"));
  runtime_.holdStop.open();  // dep-a's follow does not end here: it waits for its log
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->teardownComplete("dep-b"); }, 20s));
  EXPECT_EQ(router_.removed(), std::vector<std::string>{"dep-b"});
  EXPECT_EQ(systemLines("dep-b").back(), "[STOP] teardown complete: container removed");
  EXPECT_FALSE(manager_->teardownComplete("dep-a"));
}

// Deployed again under the same id while the stop of its old container is under way: the
// teardown leaves the new run alone (its container, its route, its row).
TEST_F(GoneTest, ADeploymentDeployedAgainDuringItsTeardownIsLeftAlone) {
  runtime_.add("dep-1", "c0ffee", std::nullopt);
  runtime_.holdStopOf = "c0ffee";
  start();
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  ASSERT_TRUE(manager_->requestStop("dep-1").isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return runtime_.holdStop.arrived() == 1; }, 20s));
  runtime_.remove("c0ffee");
  deliver(plugin::RuntimeEventType::kDestroy, "dep-1", "c0ffee");
  std::this_thread::sleep_for(10ms);  // a later start than the old run's
  runtime_.add("dep-1", "f00d", std::nullopt);
  deliver(plugin::RuntimeEventType::kConnected, "", "");  // a reconcile lists the new run
  ASSERT_TRUE(zc::testing::waitFor([&] {
    Deployment r = row("dep-1");
    return r.status == DeploymentStatus::kRunning && r.containerId == "f00d";
  }, 5s));
  runtime_.holdStop.open();
  std::this_thread::sleep_for(500ms);
  manager_->stop();  // the teardown's pass is over
  Deployment r = row("dep-1");
  EXPECT_EQ(r.status, DeploymentStatus::kRunning);
  EXPECT_EQ(r.containerId, "f00d");
  EXPECT_TRUE(runtime_.inspect("f00d").isOk());
  EXPECT_TRUE(router_.removed().empty());
  EXPECT_EQ(count("dep-1", "[STOP] teardown complete: container removed"), 0);
}

TEST_F(GoneTest, ResourceGaugesOnlyWhileTheDeploymentRuns) {
  runtime_.add("dep-1", "c0ffee", 8080);
  start();
  CollectorApiImpl api(*manager_, *storage_, bus_, nullptr);
  ASSERT_TRUE(zc::testing::waitFor([&] { return manager_->activeFollows() == 1; }, 5s));
  plugin::ResourceSample s;
  s.cpuPct = 12.5;
  s.cpuSecondsTotal = 3.25;
  s.memUsedBytes = 1000;
  s.memLimitBytes = 2000;
  manager_->recordSample("dep-1", s);
  auto g = api.deploymentGauges();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(g[0].hasSample);
  EXPECT_DOUBLE_EQ(g[0].cpuSecondsTotal, 3.25);
  EXPECT_DOUBLE_EQ(g[0].cpuPct, 12.5);
  ASSERT_TRUE(manager_->requestStop("dep-1").isOk());
  g = api.deploymentGauges();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_FALSE(g[0].hasSample);
  manager_->recordSample("dep-1", s);  // a sample in flight when it stopped is not kept
  EXPECT_FALSE(api.deploymentGauges()[0].hasSample);
}

TEST_F(GoneTest, ADeploymentWithoutContainerWhoseDataExpiredIsForgotten) {
  plugin::RetentionPolicy p;
  p.logsTtl = p.systemTtl = p.metricsTtl = 60 * kNanosPerSecond;
  storage_->setRetentionPolicy(p);
  Deployment d;
  d.id = "dep-1";
  d.status = DeploymentStatus::kRunning;
  d.containerId = "c0ffee";
  d.hostPort = 8080;
  ASSERT_TRUE(storage_->putDeployment(d).isOk());
  runtime_.add("dep-2", "b0b", 8081);  // runs: never forgotten
  LifecycleOptions opts;
  opts.forgetCheck = 100ms;
  start(opts);
  ASSERT_TRUE(zc::testing::waitFor([&] { return count("dep-1", kGone) == 1; }, 5s));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(manager_->get("dep-1").isOk());  // its [GONE] line is still there
  clock_.advance(120 * kNanosPerSecond);     // everything of it expires
  ASSERT_TRUE(zc::testing::waitFor([&] { return !manager_->get("dep-1").isOk(); }, 5s));
  EXPECT_TRUE(storage_->getDeployment("dep-1").status().isNotFound());
  EXPECT_TRUE(manager_->get("dep-2").isOk());
  auto all = manager_->list();
  EXPECT_EQ(all.size(), 1u);
  // It comes back as new when its id shows up again.
  runtime_.add("dep-1", "f00d", 8082);
  deliver(plugin::RuntimeEventType::kConnected, "", "");
  ASSERT_TRUE(zc::testing::waitFor([&] {
    auto r = manager_->get("dep-1");
    return r.isOk() && r->containerId == "f00d" && r->status == DeploymentStatus::kRunning;
  }, 5s));
}

TEST(CrashTrackerForgetTest, AnOomEventOfAContainerThatIsGoneIsDropped) {
  CrashTracker t;
  Deployment row;
  row.status = DeploymentStatus::kRunning;
  plugin::ContainerInfo c;
  c.deploymentId = "dep-1";
  c.containerId = "c0ffee";
  c.startedAt = 100;
  c.finishedAt = 200;
  c.exitCode = 137;
  t.noteOom("c0ffee");
  t.forgetContainer("c0ffee");
  ASSERT_TRUE(t.begin(c, row));
  EXPECT_FALSE(t.take().oom);
  t.noteOom("c0ffee");
  t.keepOnly({"other"});
  c.finishedAt = 300;
  ASSERT_TRUE(t.begin(c, row));
  EXPECT_FALSE(t.take().oom);
  t.noteOom("c0ffee");
  t.keepOnly({"c0ffee"});
  c.finishedAt = 400;
  ASSERT_TRUE(t.begin(c, row));
  EXPECT_TRUE(t.take().oom);
}

}  // namespace
}  // namespace zc::collector
