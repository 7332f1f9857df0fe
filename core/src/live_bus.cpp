#include "zc/host/live_bus.h"

#include <algorithm>

namespace zc::host {

LiveBus::SubscriptionId LiveBus::subscribe(std::string_view deploymentId,
                                           std::shared_ptr<LiveSubscriber> subscriber) {
  std::unique_lock lock(mu_);
  SubscriptionId id = nextId_++;
  byDeployment_[std::string(deploymentId)].push_back({id, std::move(subscriber)});
  deploymentOf_.emplace(id, deploymentId);
  return id;
}

void LiveBus::unsubscribe(SubscriptionId id) noexcept {
  std::shared_ptr<LiveSubscriber> released;  // destroyed outside the lock
  std::unique_lock lock(mu_);
  auto it = deploymentOf_.find(id);
  if (it == deploymentOf_.end()) return;
  auto dep = byDeployment_.find(it->second);
  if (dep != byDeployment_.end()) {
    auto& v = dep->second;
    auto e = std::find_if(v.begin(), v.end(), [id](const Entry& x) { return x.id == id; });
    if (e != v.end()) {
      released = std::move(e->subscriber);
      v.erase(e);
    }
    if (v.empty()) byDeployment_.erase(dep);
  }
  deploymentOf_.erase(it);
  lock.unlock();
}

template <typename Fn>
void LiveBus::forEach(std::string_view deploymentId, Fn&& fn) noexcept {
  std::shared_lock lock(mu_);
  auto it = byDeployment_.find(std::string(deploymentId));
  if (it == byDeployment_.end()) return;
  for (const Entry& e : it->second) fn(*e.subscriber);
}

void LiveBus::publishLines(std::string_view deploymentId, const LineBatch& batch) noexcept {
  if (!batch || batch->empty()) return;
  forEach(deploymentId, [&](LiveSubscriber& s) { s.onLines(batch); });
  std::shared_lock lock(mu_);
  if (linesCallback_) linesCallback_();
}

void LiveBus::setLinesCallback(std::function<void()> callback) noexcept {
  std::function<void()> previous;  // destroyed outside the lock
  std::unique_lock lock(mu_);
  previous.swap(linesCallback_);
  linesCallback_ = std::move(callback);
}

void LiveBus::publishStatus(std::string_view deploymentId, DeploymentStatus status) noexcept {
  forEach(deploymentId, [&](LiveSubscriber& s) { s.onStatus(status); });
}

void LiveBus::publishEnd(std::string_view deploymentId) noexcept {
  forEach(deploymentId, [&](LiveSubscriber& s) { s.onEnd(); });
}

size_t LiveBus::subscriberCount() const noexcept {
  std::shared_lock lock(mu_);
  return deploymentOf_.size();
}

}  // namespace zc::host
