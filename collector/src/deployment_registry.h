// DeploymentRegistry: the deployments this collector knows, each with its stored row and the one
// Sequencer that numbers its lines.
//
// Entries are loaded from storage at start-up and created when the runtime shows a new
// deployment. forget() takes one out; the entry itself is kept (marked forgotten: update() no
// longer stores its row) for at least kRetiredKeep after that, so an Entry pointer from find()
// stays valid for the length of any one call made with it. update() changes a row under the registry's lock, stores it and
// publishes a status change on the LiveBus. The lifecycle (DeploymentManager) keeps its
// per-deployment follow and crash state in the entry too: those fields are the worker thread's
// alone and the registry never touches them.
//
// OWNERSHIP: storage, bus and clock are borrowed and must outlive the registry. Thread-safety:
// all methods are thread-safe; fields marked "guarded" are read or written only while holding
// lock().
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "crash_tracker.h"
#include "ingest.h"
#include "sequencer.h"
#include "zc/clock.h"
#include "zc/host/live_bus.h"
#include "zc/plugin/runtime.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

// Running or unhealthy with a container: the deployment's container runs, so it is probed and
// sampled.
inline bool isLive(const Deployment& d) {
  return (d.status == DeploymentStatus::kRunning || d.status == DeploymentStatus::kUnhealthy) &&
         !d.containerId.empty();
}

// What /metrics shows of one deployment.
struct DeploymentSnapshot {
  Deployment row;
  uint64_t linesByStream[3] = {0, 0, 0};  // stdout, stderr, system; committed by this process
  uint64_t crashes = 0;
  int consecutiveHealthFailures = 0;
  std::optional<plugin::ResourceSample> lastSample;
};

class DeploymentRegistry {
 public:
  struct Entry {
    Deployment row;  // guarded
    std::shared_ptr<Sequencer> seq;
    uint64_t crashes = 0;                              // guarded
    int healthFailures = 0;                            // guarded
    std::optional<plugin::ResourceSample> lastSample;  // guarded
    bool teardownGaveUp = false;                       // guarded: container left in place
    // guarded: a stop was requested (or a stored stopped row still names a container or a port)
    // and its teardown has not run to its end: released, or given up with the container left.
    bool teardownPending = false;
    // guarded: counts the stops that set teardownPending; a teardown that ends clears the flag
    // only when no stop came meanwhile (that one is a retry the teardown has yet to run).
    uint64_t stopGeneration = 0;
    bool forgotten = false;                            // guarded: taken out by forget()
    // The lifecycle worker's only:
    std::unique_ptr<FollowConsumer> consumer;
    std::unique_ptr<plugin::Subscription> follow;
    std::string followContainer;
    TimeNs followRun = 0;  // StartedAt of the container when its follow began (0 = not started)
    // Containers whose log was read to its end while not running, with the StartedAt of that
    // run (0 = never started): a later run of the same container is read again.
    std::map<std::string, TimeNs> drained;
    CrashTracker crash;
  };

  DeploymentRegistry(plugin::Storage& storage, host::LiveBus& bus, Clock& clock);

  // Loads the stored deployments and their next lineNos. Call once, before anything else.
  Status load();
  // Null for unknown ids.
  Entry* find(const std::string& id) const;
  // The entry of `id`, created (and its row stored) when new.
  Result<Entry*> findOrCreate(const std::string& id);
  std::vector<Entry*> entries() const;
  // Takes the entry of `id` out (list(), get() and find() no longer see it). The caller deletes
  // its stored data; nothing of it is stored again.
  void forget(const std::string& id);
  static constexpr std::chrono::minutes kRetiredKeep{1};
  // Holds the lock that guards the entries' guarded fields.
  std::unique_lock<std::mutex> lock() const { return std::unique_lock(mu_); }

  // Applies `mutate` to the row under the lock (a mutate returning false declines: nothing is
  // written, nullopt is returned), stores the row and publishes a status change. A status change
  // resets the health counter; a row that stops running or changes container drops its last
  // resource sample. Returns the row as stored.
  template <typename Fn>
  std::optional<Deployment> update(Entry& e, Fn&& mutate);

  std::vector<Deployment> list() const;
  Result<Deployment> get(const std::string& id) const;
  std::vector<DeploymentSnapshot> snapshot() const;
  // Ids of the stopped deployments whose teardown has not run to its end.
  std::vector<std::string> pendingTeardowns() const;
  // Stopped, and its teardown ran to its end (container, route and port released, or given up
  // with the container left in place; its line stored) or there was nothing to tear down. A
  // container removed by anyone before the teardown's route step does not complete it.
  bool teardownComplete(const std::string& id) const;
  // Kept only while the deployment runs (running or unhealthy) with a container.
  void recordSample(const std::string& id, const plugin::ResourceSample& sample);

 private:
  void store(const Deployment& row, DeploymentStatus before);

  plugin::Storage& storage_;
  host::LiveBus& bus_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;  // guarded
  // Forgotten entries and when they were forgotten, freed after kRetiredKeep.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::unique_ptr<Entry>>>
      retired_;  // guarded
};

template <typename Fn>
std::optional<Deployment> DeploymentRegistry::update(Entry& e, Fn&& mutate) {
  Deployment row;
  DeploymentStatus before;
  bool forgotten;
  {
    std::lock_guard guard(mu_);
    forgotten = e.forgotten;
    before = e.row.status;
    const std::string containerBefore = e.row.containerId;
    if constexpr (std::is_void_v<std::invoke_result_t<Fn, Deployment&>>) {
      mutate(e.row);
    } else {
      if (!mutate(e.row)) return std::nullopt;
    }
    if (e.row.status != before) e.healthFailures = 0;  // each status starts its own count
    // A sample describes one run of one container: never shown for another, nor once it ended.
    if (!isLive(e.row) || e.row.containerId != containerBefore) e.lastSample.reset();
    row = e.row;
  }
  if (!forgotten) store(row, before);
  return row;
}

}  // namespace zc::collector
