// DeploymentManager: the collector's view of every deployment, and the driver of its log
// pipeline and lifecycle.
//
// Logs: one Sequencer per deployment. Deployment containers are discovered through the runtime
// (at start-up and after every (re)connect of the event stream: list + inspect) and followed from
// the cursor stored with their last committed batch; every chunk is committed through the
// sequencer (storage write, then live bus). When storage fails (e.g. disk full) the follow thread
// retries the same chunk: the runtime stops reading the engine meanwhile, memory stays bounded and
// no line is lost.
//
// Lifecycle (../shared/reference/monitoring-and-logs.md):
//   - crash: a container death (its FinishedAt newer than the row's lastCrashAt) of a deployment
//     not being stopped becomes status `crashed`, lastExitCode/lastCrashAt and exactly one system
//     line `[CRASH] exit=<code> oom=<true|false>`, written after the follow has taken the
//     container's last lines. A death seen only at reconcile (events were down) is recorded the
//     same way, once. A container running again returns the row to `running` with a
//     `[RESTART] ...` line; one that stays dead is removed after the crash grace, unless
//     keepCrashed.
//   - health: recordHealthResult() counts consecutive failures: `[UNHEALTHY] health probe failed
//     N times` at the N-th of a running deployment, `[RECOVERED] health probe succeeded` at the
//     next success.
//   - stop: requestStop() marks the row `stopped` at once; a drain thread then stops the
//     container (stop signal, grace, kill), lets the follow take its last lines, removes it,
//     removes the proxy route, releases the port and clears containerId/hostPort. Each failed step
//     is a `[STOP] ...` system line; the row is never wedged and a retry is idempotent.
//
// Threads: a worker thread owns connect, reconcile, follows and crash timers; a drain thread owns
// teardowns; runtime threads only enqueue. Public methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "sequencer.h"
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

// Counters for the collector's own health (exported on /metrics). Monotonic.
struct PipelineCounters {
  std::atomic<uint64_t> linesIngested{0};
  std::atomic<uint64_t> bytesIngested{0};
  std::atomic<uint64_t> batchesCommitted{0};
  std::atomic<uint64_t> commitFailures{0};
  std::atomic<uint64_t> engineConnects{0};
  std::atomic<uint64_t> engineDisconnects{0};
  std::atomic<int64_t> lastIngestLagNs{0};  // now - ts of the newest line of the last batch
};

// What /metrics shows of one deployment.
struct DeploymentSnapshot {
  Deployment row;
  uint64_t linesByStream[3] = {0, 0, 0};  // stdout, stderr, system; committed by this process
  uint64_t crashes = 0;
  int consecutiveHealthFailures = 0;
  std::optional<plugin::ResourceSample> lastSample;
};

class DeploymentManager final : public plugin::EventConsumer {
 public:
  // OWNERSHIP: everything passed in must outlive the manager. `runtime` and `router` may be null.
  DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime, plugin::Router* router,
                    host::LiveBus& bus, Clock& clock, LifecycleOptions options = {});
  ~DeploymentManager() override;

  // Loads the stored deployments and starts the worker (which connects to the runtime with
  // backoff) and the drain thread. Call once.
  Status start();
  // Stops the drain, every follow, the event subscription and the worker. Idempotent.
  void stop() noexcept;

  std::vector<Deployment> list() const;
  Result<Deployment> get(const std::string& id) const;
  std::vector<DeploymentSnapshot> snapshot() const;
  // Appends a system line through the deployment's sequencer. NotFound for unknown ids.
  Status appendSystemLine(const std::string& id, std::string text);

  // Marks the deployment stopped now and wakes the drain; the row as it is now.
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

  // plugin::EventConsumer: enqueues for the worker; never blocks.
  void onEvent(const plugin::RuntimeEvent& event) noexcept override;

 private:
  class FollowConsumer;
  struct FollowEnded {
    std::string deploymentId;
    std::string containerId;
    Status why;
  };
  struct CrashDue {
    std::string deploymentId;
  };
  struct RemoveDeadDue {
    std::string deploymentId;
    std::string containerId;
  };
  struct ReconcileDue {};
  // A system line whose storage write failed (e.g. disk full): retried until stored.
  struct SystemLineDue {
    std::string deploymentId;
    std::string text;
  };
  using Work = std::variant<plugin::RuntimeEvent, FollowEnded, CrashDue, RemoveDeadDue,
                            ReconcileDue, SystemLineDue>;

  struct Entry {
    Deployment row;  // guarded by mu_
    std::shared_ptr<Sequencer> seq;
    uint64_t crashes = 0;              // guarded by mu_
    int healthFailures = 0;            // guarded by mu_
    std::optional<plugin::ResourceSample> lastSample;  // guarded by mu_
    int teardownAttempts = 0;          // drain thread only
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
    std::optional<plugin::ContainerInfo> pendingCrash;
    std::set<std::string> oomSeen;  // containers with an oom event not yet matched to a death
    std::chrono::steady_clock::time_point pendingCrashSince;
  };

  void workerLoop();
  void drainLoop();
  void enqueue(Work w);
  void schedule(std::chrono::milliseconds delay, Work w);
  bool tryConnect();
  void handle(const plugin::RuntimeEvent& ev);
  void handle(const FollowEnded& ended);
  void handle(const CrashDue& due);
  void handle(const RemoveDeadDue& due);
  void handle(const ReconcileDue& due);
  void handle(const SystemLineDue& due);
  // False when the runtime could not list its containers (retried by the caller).
  bool reconcile();
  // `cause` is the event that made us look (die carries the exit code of that death).
  void applyContainer(const plugin::ContainerInfo& c, const plugin::RuntimeEvent* cause = nullptr);
  void finalizeCrash(Entry& e);
  void startFollow(Entry& e, const plugin::ContainerInfo& c);
  void stopFollow(Entry& e);
  void teardown(Entry& e);
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

  plugin::Storage& storage_;
  plugin::Runtime* runtime_;
  plugin::Router* router_;
  host::LiveBus& bus_;
  Clock& clock_;
  const LifecycleOptions options_;
  PipelineCounters counters_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;

  std::mutex workMu_;
  std::condition_variable workCv_;
  std::deque<Work> work_;
  std::multimap<std::chrono::steady_clock::time_point, Work> timers_;  // guarded by workMu_
  bool stopping_ = false;  // guarded by workMu_
  bool drainWanted_ = false;  // guarded by workMu_
  std::condition_variable drainCv_;
  std::thread worker_;
  std::thread drainer_;
  std::unique_ptr<plugin::Subscription> events_;
  std::atomic<bool> runtimeConnected_{false};
  std::atomic<size_t> activeFollows_{0};
};

}  // namespace zc::collector
