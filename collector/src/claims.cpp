#include "claims.h"

#include <spdlog/spdlog.h>

#include <tuple>

namespace zc::collector {
namespace {

std::string shortId(const std::string& containerId) { return containerId.substr(0, 12); }

}  // namespace

bool ClaimBook::namedFor(const plugin::ContainerInfo& c) {
  return c.name == "zynd-" + c.deploymentId;
}

bool ClaimBook::outranks(const plugin::ContainerInfo& a, const plugin::ContainerInfo& b) {
  // Named first; then older; then the lower id (ids are unique, so this is a total order).
  return std::make_tuple(!namedFor(a), a.createdAt, a.containerId) <
         std::make_tuple(!namedFor(b), b.createdAt, b.containerId);
}

bool ClaimBook::admit(const plugin::ContainerInfo& c, std::string* displaced) {
  std::lock_guard lock(mu_);
  Holder mine{c.containerId, c.name, c.createdAt, namedFor(c)};
  auto it = holders_.find(c.deploymentId);
  if (it == holders_.end() || it->second.containerId == c.containerId) {
    holders_[c.deploymentId] = std::move(mine);
    conflicts_.erase(c.containerId);
    return true;
  }
  plugin::ContainerInfo holder;
  holder.deploymentId = c.deploymentId;
  holder.containerId = it->second.containerId;
  holder.name = it->second.name;
  holder.createdAt = it->second.createdAt;
  if (!outranks(c, holder)) {
    refuse(c, it->second);
    return false;
  }
  Holder previous = it->second;
  it->second = std::move(mine);
  conflicts_.erase(c.containerId);
  refuse(holder, it->second);
  if (displaced != nullptr) *displaced = previous.containerId;
  return true;
}

void ClaimBook::refuse(const plugin::ContainerInfo& c, const Holder& holder) {
  if (conflicts_.count(c.containerId) != 0) return;
  host::ClaimConflict conflict;
  conflict.containerId = c.containerId;
  conflict.containerName = c.name;
  conflict.deploymentId = c.deploymentId;
  conflict.reason = "deployment " + c.deploymentId + " is held by " +
                    (holder.named ? std::string("the container named ") : "the older container ") +
                    holder.name + " (" + shortId(holder.containerId) + ")";
  spdlog::warn("container {} ({}) claims deployment {} and is ignored: {}", c.name,
               shortId(c.containerId), c.deploymentId, conflict.reason);
  conflicts_.emplace(c.containerId, std::move(conflict));
}

bool ClaimBook::refused(const std::string& containerId) const {
  std::lock_guard lock(mu_);
  return conflicts_.count(containerId) != 0;
}

void ClaimBook::release(const std::string& containerId) {
  std::lock_guard lock(mu_);
  conflicts_.erase(containerId);
  std::erase_if(holders_, [&](const auto& h) { return h.second.containerId == containerId; });
}

void ClaimBook::retainOnly(const std::set<std::string>& present) {
  std::lock_guard lock(mu_);
  std::erase_if(conflicts_, [&](const auto& c) { return !present.count(c.first); });
  std::erase_if(holders_, [&](const auto& h) { return !present.count(h.second.containerId); });
}

std::vector<host::ClaimConflict> ClaimBook::conflicts(size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<host::ClaimConflict> out;
  for (const auto& [id, c] : conflicts_) {
    if (out.size() >= max) break;
    out.push_back(c);
  }
  return out;
}

}  // namespace zc::collector
