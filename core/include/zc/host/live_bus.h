// LiveBus: committed log lines and status changes, fanned out to in-process subscribers.
//
// The log pipeline publishes a batch only after storage has acknowledged it, so a subscriber
// never sees a line that a later read could not return. Every subscriber of a deployment sees
// its batches in lineNo order. Publishing never blocks on a subscriber and never copies a batch
// per subscriber: each gets a shared pointer to the same immutable batch. A subscriber that
// cannot keep up must drop (and resume from storage later); the bus does not buffer for it.
//
// Thread-safety: all methods may be called from any thread. Callbacks run on the publisher's
// thread while the bus holds a shared lock; subscribe()/unsubscribe() wait for running callbacks
// to return, so after unsubscribe() returns no callback is running or will run. A callback must
// therefore never call subscribe() or unsubscribe() itself.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "zc/model.h"

namespace zc::host {

using LineBatch = std::shared_ptr<const std::vector<LogLine>>;

class LiveSubscriber {
 public:
  virtual ~LiveSubscriber() = default;
  // Lines just committed for the deployment subscribed to, ascending lineNo. Must not block.
  virtual void onLines(const LineBatch& batch) noexcept = 0;
  // The deployment's status changed. Must not block.
  virtual void onStatus(DeploymentStatus status) noexcept = 0;
  // The deployment is gone for good (teardown complete). Must not block.
  virtual void onEnd() noexcept {}
};

class LiveBus {
 public:
  using SubscriptionId = uint64_t;

  // OWNERSHIP: the bus keeps a shared reference to `subscriber` until unsubscribe().
  SubscriptionId subscribe(std::string_view deploymentId, std::shared_ptr<LiveSubscriber> subscriber);
  void unsubscribe(SubscriptionId id) noexcept;

  void publishLines(std::string_view deploymentId, const LineBatch& batch) noexcept;
  void publishStatus(std::string_view deploymentId, DeploymentStatus status) noexcept;
  void publishEnd(std::string_view deploymentId) noexcept;

  size_t subscriberCount() const noexcept;

  // One callback run after every publishLines() of any deployment, on the publisher's thread
  // under the same shared lock as the subscribers (so it must not block nor call into the bus):
  // the forwarder's wake, so that committed lines go to the sink at once instead of at its next
  // interval. Replaces the previous callback; an empty one removes it, and returns once no call
  // is running.
  void setLinesCallback(std::function<void()> callback) noexcept;

 private:
  struct Entry {
    SubscriptionId id;
    std::shared_ptr<LiveSubscriber> subscriber;
  };
  template <typename Fn>
  void forEach(std::string_view deploymentId, Fn&& fn) noexcept;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::vector<Entry>> byDeployment_;
  std::unordered_map<SubscriptionId, std::string> deploymentOf_;
  SubscriptionId nextId_ = 1;
  std::function<void()> linesCallback_;  // guarded by mu_
};

}  // namespace zc::host
