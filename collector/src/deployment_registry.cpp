#include "deployment_registry.h"

#include <spdlog/spdlog.h>

namespace zc::collector {

DeploymentRegistry::DeploymentRegistry(plugin::Storage& storage, host::LiveBus& bus, Clock& clock)
    : storage_(storage), bus_(bus), clock_(clock) {}

Status DeploymentRegistry::load() {
  auto rows = storage_.listDeployments();
  if (!rows.isOk()) return rows.status().withContext("loading deployments");
  std::lock_guard guard(mu_);
  for (Deployment& d : rows.value()) {
    auto e = std::make_unique<Entry>();
    e->seq = std::make_shared<Sequencer>(d.id, storage_, bus_, clock_);
    ZC_RETURN_IF_ERROR(e->seq->load().withContext("deployment " + d.id));
    // A stop the last run did not finish tearing down is finished by this one.
    e->teardownPending = d.status == DeploymentStatus::kStopped &&
                         (!d.containerId.empty() || d.hostPort.has_value());
    e->row = std::move(d);
    std::string id = e->row.id;
    entries_.emplace(std::move(id), std::move(e));
  }
  spdlog::info("{} stored deployments loaded", entries_.size());
  return Status::ok();
}

DeploymentRegistry::Entry* DeploymentRegistry::find(const std::string& id) const {
  std::lock_guard guard(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

Result<DeploymentRegistry::Entry*> DeploymentRegistry::findOrCreate(const std::string& id) {
  if (Entry* e = find(id)) return e;
  auto e = std::make_unique<Entry>();
  e->row.id = id;
  e->row.createdAt = clock_.now();
  e->seq = std::make_shared<Sequencer>(id, storage_, bus_, clock_);
  ZC_RETURN_IF_ERROR(e->seq->load());
  ZC_RETURN_IF_ERROR(storage_.putDeployment(e->row));
  std::lock_guard guard(mu_);
  auto [it, added] = entries_.emplace(id, std::move(e));
  return it->second.get();
}

std::vector<DeploymentRegistry::Entry*> DeploymentRegistry::entries() const {
  std::lock_guard guard(mu_);
  std::vector<Entry*> all;
  all.reserve(entries_.size());
  for (const auto& [id, e] : entries_) all.push_back(e.get());
  return all;
}

void DeploymentRegistry::forget(const std::string& id) {
  std::lock_guard guard(mu_);
  auto now = std::chrono::steady_clock::now();
  std::erase_if(retired_, [&](const auto& r) { return now - r.first >= kRetiredKeep; });
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second->forgotten = true;
  retired_.emplace_back(now, std::move(it->second));
  entries_.erase(it);
}

void DeploymentRegistry::store(const Deployment& row, DeploymentStatus before) {
  Status s = storage_.putDeployment(row);
  if (!s.isOk()) spdlog::error("deployment {}: storing row: {}", row.id, s.toString());
  if (row.status != before) bus_.publishStatus(row.id, row.status);
}

std::vector<Deployment> DeploymentRegistry::list() const {
  std::lock_guard guard(mu_);
  std::vector<Deployment> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e->row);
  return out;
}

Result<Deployment> DeploymentRegistry::get(const std::string& id) const {
  std::lock_guard guard(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::notFound("deployment '" + id + "' is unknown");
  return it->second->row;
}

std::vector<DeploymentSnapshot> DeploymentRegistry::snapshot() const {
  std::lock_guard guard(mu_);
  std::vector<DeploymentSnapshot> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) {
    DeploymentSnapshot s;
    s.row = e->row;
    for (LogStream st : {LogStream::kStdout, LogStream::kStderr, LogStream::kSystem}) {
      s.linesByStream[static_cast<int>(st) - 1] = e->seq->linesCommitted(st);
    }
    s.crashes = e->crashes;
    s.consecutiveHealthFailures = e->healthFailures;
    s.lastSample = e->lastSample;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> DeploymentRegistry::pendingTeardowns() const {
  std::lock_guard guard(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, e] : entries_) {
    const Deployment& r = e->row;
    if (r.status == DeploymentStatus::kStopped && e->teardownPending) {
      ids.push_back(id);
    }
  }
  return ids;
}

bool DeploymentRegistry::teardownComplete(const std::string& id) const {
  std::lock_guard guard(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  return it->second->row.status == DeploymentStatus::kStopped && !it->second->teardownPending;
}

void DeploymentRegistry::recordSample(const std::string& id, const plugin::ResourceSample& sample) {
  std::lock_guard guard(mu_);
  auto it = entries_.find(id);
  // A sample taken just before the deployment stopped is not kept.
  if (it != entries_.end() && isLive(it->second->row)) it->second->lastSample = sample;
}

}  // namespace zc::collector
