// DeploymentManager: the collector's view of every deployment, and the driver of its log
// pipeline and lifecycle.
//
// The deployments themselves (rows, sequencers) are kept by a DeploymentRegistry.
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
//     which releases container, route and port on its own thread. A container (stopped, or
//     dead past the crash grace) is removed only once its follow has read its log to the end
//     and storage has taken it, however long that takes.
//   - gone (container_gone.cpp): a deployment's container removed by anyone but the collector
//     (its destroy event, or absent at a reconcile and NotFound on inspect) leaves the row
//     `stopped` with containerId and hostPort cleared and one system line
//     `[GONE] container removed outside the collector`; a death of it still pending is recorded
//     first. A container the teardown removes is not gone (the row is already `stopped`). What
//     is kept per container (drained runs, oom events) is dropped when the container is gone.
//   - claims (claims.h): when several containers claim one deployment id, one holds it (the one
//     named zynd-<id>, else the oldest); the others are not followed, change no row and are
//     listed as conflicts (claimConflicts(), /healthz).
//   - reconcile: after every connection to the runtime (events may have been missed), and again
//     every reconcileInterval while connected, so a container the last listing skipped (its
//     inspect failed) is picked up without waiting for its next event or a restart.
//   - forget: a deployment without a container whose data has all expired (no line, no sample
//     left) is deleted from storage (row, lines, cursors, samples) and from the registry; checked
//     after each reconcile and every forgetCheck.
//
// Threads: a WorkLoop thread (the worker) owns connect, reconcile, follows and crash timers; the
// Teardown's thread owns teardowns; runtime threads only post to the worker. Public methods are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "claims.h"
#include "deployment_registry.h"
#include "ingest.h"
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
  std::chrono::milliseconds forgetCheck{std::chrono::minutes(10)};  // expired deployments
  std::chrono::milliseconds reconcileInterval{std::chrono::seconds(60)};  // while connected
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
  // Stops the ingest (retrying consumers give up), the worker, the teardown, the event
  // subscription and every follow (joining their threads). Idempotent.
  void stop() noexcept;

  std::vector<Deployment> list() const { return registry_.list(); }
  Result<Deployment> get(const std::string& id) const { return registry_.get(id); }
  std::vector<DeploymentSnapshot> snapshot() const { return registry_.snapshot(); }
  // Appends a system line through the deployment's sequencer. NotFound for unknown ids.
  Status appendSystemLine(const std::string& id, std::string text);

  // Marks the deployment stopped now and wakes the teardown; the row as it is now. `requestedBy`
  // (e.g. "ci from 10.0.0.5") is named in the stop line when not empty. Of a deployment whose
  // teardown gave up (container left in place), the teardown is tried again, with the line
  // `[STOP] stop requested again ...; retrying the teardown`.
  Result<Deployment> requestStop(const std::string& id, const std::string& requestedBy = {});
  // Stopped, and its container, route and port are released.
  bool teardownComplete(const std::string& id) const { return registry_.teardownComplete(id); }

  // One health probe outcome of a deployment (ignored unless running or unhealthy). Failures
  // make it unhealthy only while the runtime says its container runs.
  void recordHealthResult(const std::string& id, bool ok);
  // The last resource sample of a deployment, for /metrics.
  void recordSample(const std::string& id, const plugin::ResourceSample& sample) {
    registry_.recordSample(id, sample);
  }

  // Containers ignored because another container holds the deployment they claim (claims.h).
  std::vector<host::ClaimConflict> claimConflicts(size_t max) const { return claims_.conflicts(max); }

  const PipelineCounters& counters() const noexcept { return counters_; }
  size_t activeFollows() const noexcept { return activeFollows_.load(); }
  // True from the end of the reconcile that follows a connection to the runtime until the runtime
  // reports the connection lost.
  bool runtimeConnected() const noexcept { return runtimeConnected_.load(); }
  // How long the runtime has not been connected in the sense of runtimeConnected(): since the
  // manager was made (never connected yet) or since the connection was lost. Zero while
  // connected, and always without a runtime.
  std::chrono::nanoseconds runtimeDisconnectedFor() const noexcept;
  // True when the rows describe the runtime's containers: no runtime, or a reconcile completed.
  // Before that a row may name a container removed while the collector was down, so the
  // monitors neither probe nor sample.
  bool rowsReconciled() const noexcept { return runtime_ == nullptr || reconciled_.load(); }

  // plugin::EventConsumer: posts to the worker; never blocks.
  void onEvent(const plugin::RuntimeEvent& event) noexcept override;

 private:
  using Entry = DeploymentRegistry::Entry;

  // Connects and subscribes to the runtime's events; on failure tries again after `backoff`.
  void connect(RetryBackoff backoff);
  void handle(const plugin::RuntimeEvent& ev);
  void followEnded(const std::string& id, const std::string& containerId, const Status& why);
  void crashDue(const std::string& id);
  // Records the pending deaths that are ready, oldest first; checks again later while one waits.
  void settleCrashes(Entry& e);
  void removeDead(const std::string& id, const std::string& containerId);
  void reconcileOrRetry();
  // The periodic reconcile: one pass while connected, then again after reconcileInterval.
  void reconcileEvery();
  void retrySystemLine(const std::string& id, std::string text, RetryBackoff backoff);
  // False when the runtime could not list its containers (retried by the caller). `periodic`
  // logs the outcome at debug level.
  bool reconcile(bool periodic = false);
  // `cause` is the event that made us look (die carries the exit code of that death).
  void applyContainer(const plugin::ContainerInfo& c, const plugin::RuntimeEvent* cause = nullptr);
  void finalizeCrash(Entry& e);
  // container_gone.cpp: the container `containerId` of the deployment no longer exists.
  void containerGone(Entry& e, const std::string& containerId);
  // After a listing that saw `present`: rows naming a container that is gone, and what is kept
  // per container of containers that are gone.
  void sweepGone(const std::set<std::string>& present);
  // Deletes the deployments without a container whose data has all expired.
  void forgetExpired();
  void forgetExpiredEvery();
  void startFollow(Entry& e, const plugin::ContainerInfo& c);
  void stopFollow(Entry& e);
  // DeploymentRegistry::update(), then appends `systemLine` (when not empty; retried later if
  // storage refuses it) unless declined.
  template <typename Fn>
  std::optional<Deployment> updateRow(Entry& e, Fn&& mutate, std::string systemLine = {});
  void appendOrRetrySystemLine(Entry& e, std::string text);

  // TeardownRegistry (called on the teardown's thread).
  std::vector<std::string> pendingTeardowns() const override {
    return registry_.pendingTeardowns();
  }
  std::optional<Deployment> row(const std::string& id) const override;
  bool logStored(const std::string& id, const std::string& containerId) override;
  // Worker: logStored() itself; when not, makes sure a follow reads the container.
  bool logStoredOnWorker(const std::string& id, const std::string& containerId);
  void systemLine(const std::string& id, std::string text) override;
  void teardownDone(const std::string& id, bool containerLeft, std::string line) override;

  plugin::Storage& storage_;
  plugin::Runtime* runtime_;
  const LifecycleOptions options_;
  PipelineCounters counters_;

  DeploymentRegistry registry_;
  ClaimBook claims_;

  Ingest ingest_;
  Teardown teardown_;
  WorkLoop worker_;
  std::unique_ptr<plugin::Subscription> events_;  // worker thread only until stop()
  std::atomic<bool> runtimeConnected_{false};
  std::atomic<bool> reconciled_{false};
  // steady_clock time (ns since its epoch) since which runtimeConnected_ is false.
  std::atomic<int64_t> runtimeDownSince_{0};
  std::atomic<size_t> activeFollows_{0};
};

}  // namespace zc::collector
