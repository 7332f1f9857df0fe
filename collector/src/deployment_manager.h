// DeploymentManager: the collector's view of every deployment, and the driver of its log
// pipeline and lifecycle.
//
// Logs: one Sequencer per deployment. Deployment containers are discovered through the runtime
// (at start-up and after every (re)connect of the event stream: list + inspect) and followed from
// the cursor stored with their last committed batch; the chunks are committed by the Ingest's
// FollowConsumers (ingest.h: back-pressure, retry of a failed write, exactly once).
//
// Lifecycle:
//   - crash (decided by crash_tracker.h): a container death of a deployment not being stopped
//     becomes status `crashed`, lastExitCode/lastCrashAt and exactly one system line
//     `[CRASH] exit=<code> oom=<true|false>`, written after the follow has taken the container's
//     last lines. A container running again returns the row to `running` with a `[RESTART] ...`
//     line; one that stays dead is removed after the crash grace, unless keepCrashed.
//   - health: recordHealthResult() counts consecutive failures: `[UNHEALTHY] health probe failed
//     N times` at the N-th of a running deployment, `[RECOVERED] health probe succeeded` at the
//     next success.
//   - stop: requestStop() marks the row `stopped` at once and wakes the Teardown (teardown.h),
//     which releases container, route and port on its own thread.
//
// Threads: a WorkLoop thread (the worker) owns connect, reconcile, follows and crash timers; the
// Teardown's thread owns teardowns; runtime threads only post to the worker. Public methods are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crash_tracker.h"
#include "ingest.h"
#include "sequencer.h"
#include "teardown.h"
#include "work_loop.h"
#include "zc/clock.h"
#include "zc/host/live_bus.h"
#include "zc/plugin/router.h"
#include "zc/plugin/runtime.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

struct LifecycleOptions {
  bool keepCrashed = false;
  std::chrono::milliseconds crashGrace{std::chrono::seconds(10)};  // dead container kept this long
  std::chrono::seconds stopGrace{10};                              // SIGTERM -> SIGKILL
  int healthFailures = 3;                                          // consecutive, to go unhealthy
};

// What /metrics shows of one deployment.
struct DeploymentSnapshot {
  Deployment row;
  uint64_t linesByStream[3] = {0, 0, 0};  // stdout, stderr, system; committed by this process
  uint64_t crashes = 0;
  int consecutiveHealthFailures = 0;
  std::optional<plugin::ResourceSample> lastSample;
};

class DeploymentManager final : public plugin::EventConsumer, private TeardownRegistry {
 public:
  // OWNERSHIP: everything passed in must outlive the manager. `runtime` and `router` may be null.
  DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime, plugin::Router* router,
                    host::LiveBus& bus, Clock& clock, LifecycleOptions options = {});
  ~DeploymentManager() override;

  // Loads the stored deployments and starts the worker (which connects to the runtime with
  // backoff) and the teardown. Call once.
  Status start();
  // Stops the ingest (retrying consumers give up), the teardown, the worker, the event
  // subscription and every follow. Idempotent.
  void stop() noexcept;

  std::vector<Deployment> list() const;
  Result<Deployment> get(const std::string& id) const;
  std::vector<DeploymentSnapshot> snapshot() const;
  // Appends a system line through the deployment's sequencer. NotFound for unknown ids.
  Status appendSystemLine(const std::string& id, std::string text);

  // Marks the deployment stopped now and wakes the teardown; the row as it is now.
  Result<Deployment> requestStop(const std::string& id);
  // Stopped, and its container, route and port are released.
  bool teardownComplete(const std::string& id) const;

  // One health probe outcome of a deployment (ignored unless running or unhealthy).
  void recordHealthResult(const std::string& id, bool ok);
  // The last resource sample of a deployment, for /metrics.
  void recordSample(const std::string& id, const plugin::ResourceSample& sample);

  const PipelineCounters& counters() const noexcept { return counters_; }
  size_t activeFollows() const noexcept { return activeFollows_.load(); }
  // True once the runtime answered and the first reconcile ran.
  bool runtimeConnected() const noexcept { return runtimeConnected_.load(); }

  // plugin::EventConsumer: posts to the worker; never blocks.
  void onEvent(const plugin::RuntimeEvent& event) noexcept override;

 private:
  struct Entry {
    Deployment row;  // guarded by mu_
    std::shared_ptr<Sequencer> seq;
    uint64_t crashes = 0;              // guarded by mu_
    int healthFailures = 0;            // guarded by mu_
    std::optional<plugin::ResourceSample> lastSample;  // guarded by mu_
    bool teardownGaveUp = false;       // guarded by mu_: container left in place
    std::atomic<bool> following{false};
    // Worker thread only:
    std::unique_ptr<FollowConsumer> consumer;
    std::unique_ptr<plugin::Subscription> follow;
    std::string followContainer;
    TimeNs followRun = 0;  // StartedAt of the container when its follow began (0 = not started)
    // Containers whose log was read to its end while not running, with the StartedAt of that
    // run (0 = never started): a later run of the same container is read again.
    std::map<std::string, TimeNs> drained;
    CrashTracker crash;
  };

  void connect(std::chrono::milliseconds backoff);
  void handle(const plugin::RuntimeEvent& ev);
  void followEnded(const std::string& id, const std::string& containerId, const Status& why);
  void crashDue(const std::string& id);
  void removeDead(const std::string& id, const std::string& containerId);
  void reconcileOrRetry();
  void retrySystemLine(const std::string& id, std::string text, RetryBackoff backoff);
  // False when the runtime could not list its containers (retried by the caller).
  bool reconcile();
  // `cause` is the event that made us look (die carries the exit code of that death).
  void applyContainer(const plugin::ContainerInfo& c, const plugin::RuntimeEvent* cause = nullptr);
  void finalizeCrash(Entry& e);
  void startFollow(Entry& e, const plugin::ContainerInfo& c);
  void stopFollow(Entry& e);
  Entry* find(const std::string& id) const;
  // Creates the entry (and stored row) when new. Worker thread only.
  Result<Entry*> entryFor(const std::string& id);
  // Applies `mutate` to the row under the lock (a mutate returning false declines: nothing is
  // written), stores it, publishes a status change and then appends `systemLine` (when not
  // empty; retried later if storage refuses it). A status change resets the health counter.
  // Returns the row as stored, or nullopt when declined.
  template <typename Fn>
  std::optional<Deployment> updateRow(Entry& e, Fn&& mutate, std::string systemLine = {});
  void appendOrRetrySystemLine(Entry& e, std::string text);

  // TeardownRegistry (called on the teardown's thread).
  std::vector<std::string> pendingTeardowns() const override;
  std::optional<Deployment> row(const std::string& id) const override;
  bool following(const std::string& id) const override;
  void systemLine(const std::string& id, std::string text) override;
  void teardownDone(const std::string& id, bool containerLeft, std::string line) override;

  plugin::Storage& storage_;
  plugin::Runtime* runtime_;
  plugin::Router* router_;
  host::LiveBus& bus_;
  Clock& clock_;
  const LifecycleOptions options_;
  PipelineCounters counters_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;

  Ingest ingest_;
  Teardown teardown_;
  WorkLoop worker_;
  std::unique_ptr<plugin::Subscription> events_;  // worker thread only until stop()
  std::atomic<bool> runtimeConnected_{false};
  std::atomic<size_t> activeFollows_{0};
};

}  // namespace zc::collector
