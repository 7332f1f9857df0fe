// Teardown (collector/src/teardown.h) against a fake registry, runtime and router: the steps run
// in order (stop, wait for the follow, remove, route, release) and end the live streams; the
// container stays for as many passes as its log is not stored, with one stop signal; an
// unreachable engine releases nothing and is retried; any other refusal is given up after three
// passes with the container left in place; stop() is prompt.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "teardown.h"
#include "test_support.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// Everything the teardown does, in the order it did it.
class Journal {
 public:
  void add(std::string step) {
    std::lock_guard lock(mu_);
    steps_.push_back(std::move(step));
  }
  std::vector<std::string> steps() {
    std::lock_guard lock(mu_);
    return steps_;
  }
  bool has(const std::string& step) {
    auto s = steps();
    return std::find(s.begin(), s.end(), step) != s.end();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> steps_;
};

class FakeRegistry final : public TeardownRegistry {
 public:
  explicit FakeRegistry(Journal& j) : j_(j) {
    row_.id = "dep-1";
    row_.status = DeploymentStatus::kStopped;
    row_.containerId = "c0ffee";
    row_.hostPort = 8080;
  }
  std::atomic<bool> followRuns{false};

  std::vector<std::string> pendingTeardowns() const override {
    std::lock_guard lock(mu_);
    if (done_) return {};
    return {row_.id};
  }
  std::optional<Deployment> row(const std::string&) const override {
    std::lock_guard lock(mu_);
    return row_;
  }
  bool logStored(const std::string&, const std::string&) override {
    ++logChecks;
    return !followRuns.load();
  }
  std::atomic<int> logChecks{0};
  void systemLine(const std::string&, std::string text) override { j_.add(text); }
  void teardownDone(const std::string&, bool containerLeft, std::string line) override {
    std::lock_guard lock(mu_);
    done_ = true;
    j_.add(std::string("done left=") + (containerLeft ? "yes" : "no"));
    j_.add(line);
  }

 private:
  Journal& j_;
  mutable std::mutex mu_;
  Deployment row_;
  bool done_ = false;
};

// Only stop and remove are used by the teardown; the rest answer Unavailable.
class FakeRuntime final : public plugin::Runtime {
 public:
  FakeRuntime(Journal& j, FakeRegistry& reg) : j_(j), reg_(reg) {}
  std::atomic<int> refuseRemoval{0};  // removals still to refuse
  std::atomic<bool> followEndsOnStop{true};
  Status refusal = Status::unavailable("engine down");

  Status stopContainer(std::string_view id, std::chrono::seconds) noexcept override {
    j_.add("stop " + std::string(id));
    if (followEndsOnStop) reg_.followRuns = false;  // the follow reads the last lines and ends
    return Status::ok();
  }
  Status removeContainer(std::string_view id, bool) noexcept override {
    if (refuseRemoval.load() > 0) {
      refuseRemoval.fetch_sub(1);
      j_.add("remove refused");
      return refusal;
    }
    j_.add("remove " + std::string(id));
    return Status::ok();
  }
  Status connect() noexcept override { return down(); }
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override { return down(); }
  Result<plugin::ContainerInfo> inspect(std::string_view) noexcept override { return down(); }
  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo&,
                                                           std::string_view,
                                                           plugin::LogConsumer*) noexcept override {
    return down();
  }
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(plugin::EventConsumer*) noexcept override {
    return down();
  }
  Result<plugin::ResourceSample> sampleResources(std::string_view) noexcept override { return down(); }

 private:
  static Status down() { return Status::unavailable("not used by the teardown"); }
  Journal& j_;
  FakeRegistry& reg_;
};

class FakeRouter final : public plugin::Router {
 public:
  explicit FakeRouter(Journal& j) : j_(j) {}
  Status removeRoute(std::string_view routeId) noexcept override {
    j_.add("route " + std::string(routeId));
    return Status::ok();
  }

 private:
  Journal& j_;
};

class EndRecorder final : public host::LiveSubscriber {
 public:
  explicit EndRecorder(Journal& j) : j_(j) {}
  void onLines(const host::LineBatch&) noexcept override {}
  void onStatus(DeploymentStatus) noexcept override {}
  void onEnd() noexcept override { j_.add("end"); }

 private:
  Journal& j_;
};

class TeardownTest : public ::testing::Test {
 protected:
  void SetUp() override { sub_ = bus_.subscribe("dep-1", std::make_shared<EndRecorder>(journal_)); }
  void TearDown() override { bus_.unsubscribe(sub_); }

  Journal journal_;
  FakeRegistry registry_{journal_};
  FakeRuntime runtime_{journal_, registry_};
  FakeRouter router_{journal_};
  host::LiveBus bus_;
  host::LiveBus::SubscriptionId sub_{};
};

TEST_F(TeardownTest, StepsRunInOrderAndEndTheStreams) {
  registry_.followRuns = true;
  Teardown t(registry_, &runtime_, &router_, bus_, 1s);
  t.start();
  t.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return journal_.has("end"); }, 5s));
  t.stop();
  EXPECT_EQ(journal_.steps(),
            (std::vector<std::string>{"stop c0ffee", "remove c0ffee", "route dep-1", "done left=no",
                                      "[STOP] teardown complete: port 8080 released; container removed",
                                      "end"}));
}

TEST_F(TeardownTest, AnUnreachableEngineReleasesNothingUntilItAnswers) {
  runtime_.refuseRemoval = 4;
  Teardown t(registry_, &runtime_, nullptr, bus_, 1s);
  t.start();
  for (int pass = 0; pass < 4; ++pass) {
    t.wake();
    ASSERT_TRUE(zc::testing::waitFor([&] { return runtime_.refuseRemoval.load() == 3 - pass; }, 5s));
  }
  t.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return journal_.has("end"); }, 5s));
  t.stop();
  auto steps = journal_.steps();
  // One [STOP] line for the first refusal only; released after the engine answered.
  EXPECT_EQ(std::count(steps.begin(), steps.end(),
                       "[STOP] container removal failed: Unavailable: engine down"), 1);
  EXPECT_TRUE(journal_.has("remove c0ffee"));
  EXPECT_TRUE(journal_.has("done left=no"));
  EXPECT_TRUE(journal_.has("[STOP] no router configured; route left in place"));
}

TEST_F(TeardownTest, AnyOtherRefusalIsGivenUpAfterThreePasses) {
  runtime_.refuseRemoval = 100;
  runtime_.refusal = Status::failedPrecondition("removal of container is already in progress");
  Teardown t(registry_, &runtime_, &router_, bus_, 1s);
  t.start();
  for (int pass = 0; pass < 3 && !journal_.has("end"); ++pass) {
    t.wake();
    ASSERT_TRUE(zc::testing::waitFor([&] { return runtime_.refuseRemoval.load() == 99 - pass; }, 5s));
  }
  ASSERT_TRUE(zc::testing::waitFor([&] { return journal_.has("end"); }, 5s));
  t.stop();
  EXPECT_TRUE(journal_.has("[STOP] giving up on removing container c0ffee; it is left in place"));
  EXPECT_TRUE(journal_.has("done left=yes"));
  EXPECT_TRUE(journal_.has("[STOP] teardown complete: port 8080 released; container left in place"));
}

TEST_F(TeardownTest, StopWhileWaitingForTheFollowIsPrompt) {
  Teardown t(registry_, &runtime_, &router_, bus_, 1s);
  t.start();
  registry_.followRuns = true;
  runtime_.followEndsOnStop = false;  // the teardown waits for the follow
  t.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return journal_.has("stop c0ffee"); }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  t.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_FALSE(journal_.has("remove c0ffee"));
}

TEST_F(TeardownTest, TheContainerStaysUntilItsLogIsStoredHoweverManyPasses) {
  Teardown t(registry_, &runtime_, &router_, bus_, 1s);
  t.start();
  registry_.followRuns = true;
  runtime_.followEndsOnStop = false;  // storage refuses the last lines (disk full)
  for (int pass = 0; pass < 5; ++pass) {
    int before = registry_.logChecks.load();
    t.wake();
    ASSERT_TRUE(zc::testing::waitFor([&] { return registry_.logChecks.load() > before; }, 5s));
  }
  EXPECT_FALSE(journal_.has("remove c0ffee"));
  registry_.followRuns = false;  // stored at last
  t.wake();
  ASSERT_TRUE(zc::testing::waitFor([&] { return journal_.has("end"); }, 5s));
  t.stop();
  auto steps = journal_.steps();
  EXPECT_EQ(std::count(steps.begin(), steps.end(), "stop c0ffee"), 1);  // one stop signal
  EXPECT_TRUE(journal_.has("remove c0ffee"));
}

}  // namespace
}  // namespace zc::collector
