// DeploymentManager: the collector's view of every deployment, and the log pipeline's driver.
//
// It keeps one Sequencer per deployment, discovers deployment containers through the runtime
// plugin (at start-up and after every (re)connect of the event stream: list + inspect), follows
// each container's log from the cursor stored with its last committed batch, and commits every
// chunk the runtime delivers through the sequencer (storage write, then live bus). When storage
// fails (e.g. disk full), the follow thread waits and retries the same chunk: the runtime stops
// reading the engine meanwhile, so memory stays bounded and no line is lost.
//
// Threads: one worker thread owns connect/reconcile/follow start and stop; runtime follow
// threads call into FollowConsumer; the runtime's event thread only enqueues. Public methods are
// thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "sequencer.h"
#include "zc/clock.h"
#include "zc/host/live_bus.h"
#include "zc/plugin/runtime.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

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

class DeploymentManager final : public plugin::EventConsumer {
 public:
  // OWNERSHIP: everything passed in must outlive the manager. `runtime` may be null (no runtime:
  // the collector only serves what is stored).
  DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime, host::LiveBus& bus,
                    Clock& clock);
  ~DeploymentManager() override;

  // Loads the stored deployments and starts the worker (which connects to the runtime with
  // backoff). Call once.
  Status start();
  // Stops every follow, the event subscription and the worker. Idempotent.
  void stop() noexcept;

  std::vector<Deployment> list() const;
  Result<Deployment> get(const std::string& id) const;
  // Appends a system line through the deployment's sequencer. NotFound for unknown ids.
  Status appendSystemLine(const std::string& id, std::string text);

  const PipelineCounters& counters() const noexcept { return counters_; }
  // Number of container log follows currently running.
  size_t activeFollows() const;
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
  using Work = std::variant<plugin::RuntimeEvent, FollowEnded>;

  struct Entry {
    Deployment row;  // guarded by mu_
    std::shared_ptr<Sequencer> seq;
    // Worker thread only:
    std::unique_ptr<FollowConsumer> consumer;
    std::unique_ptr<plugin::Subscription> follow;
    std::string followContainer;
    std::set<std::string> drained;  // stopped containers whose log was read to its end
  };

  void workerLoop();
  void enqueue(Work w);
  bool tryConnect();
  void handle(const plugin::RuntimeEvent& ev);
  void handle(const FollowEnded& ended);
  void reconcile();
  void applyContainer(const plugin::ContainerInfo& c);
  void startFollow(Entry& e, const plugin::ContainerInfo& c);
  void stopFollow(Entry& e);
  // Creates the entry (and stored row) when new. Worker thread only.
  Result<Entry*> entryFor(const std::string& id);

  plugin::Storage& storage_;
  plugin::Runtime* runtime_;
  host::LiveBus& bus_;
  Clock& clock_;
  PipelineCounters counters_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;

  std::mutex workMu_;
  std::condition_variable workCv_;
  std::deque<Work> work_;
  bool stopping_ = false;  // guarded by workMu_
  std::atomic<bool> stopFlag_{false};
  std::thread worker_;
  std::unique_ptr<plugin::Subscription> events_;
  std::atomic<bool> runtimeConnected_{false};
  std::atomic<size_t> activeFollows_{0};
};

}  // namespace zc::collector
