#include "deployment_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// Copies what the runtime knows into the stored row; returns true when something changed.
bool applyContainerInfo(Deployment& row, const plugin::ContainerInfo& c) {
  Deployment before = row;
  auto setIf = [](std::string& field, const std::string& value) {
    if (!value.empty()) field = value;
  };
  setIf(row.name, c.displayName.empty() ? c.name : c.displayName);
  setIf(row.slug, c.slug);
  setIf(row.entityType, c.entityType);
  setIf(row.publicUrl, c.publicUrl);
  setIf(row.registryUrl, c.registryUrl);
  setIf(row.entityId, c.entityId);
  setIf(row.publicKey, c.publicKey);
  row.routeId = c.routeId.empty() ? row.id : c.routeId;
  if (row.status != DeploymentStatus::kStopped) {
    row.containerId = c.containerId;
    if (c.hostPort) row.hostPort = c.hostPort;
    if (c.running && row.status == DeploymentStatus::kCrashed) row.status = DeploymentStatus::kRunning;
  }
  if (c.createdAt != 0) row.createdAt = c.createdAt;
  if (c.startedAt) row.startedAt = c.startedAt;
  if (c.exitCode && !c.running) row.lastExitCode = c.exitCode;
  return !(row == before);
}

}  // namespace

// Receives one container's log chunks on the runtime's follow thread and commits them.
class DeploymentManager::FollowConsumer final : public plugin::LogConsumer {
 public:
  FollowConsumer(DeploymentManager& owner, std::shared_ptr<Sequencer> seq, std::string containerId)
      : owner_(owner), seq_(std::move(seq)), containerId_(std::move(containerId)) {}

  bool consume(plugin::LogChunk&& chunk) noexcept override {
    std::vector<LogLine> lines;
    lines.reserve(chunk.lines.size());
    uint64_t bytes = 0;
    TimeNs newest = 0;
    for (plugin::RawLine& r : chunk.lines) {
      LogLine& l = lines.emplace_back();
      l.stream = r.stream;
      l.ts = r.ts;
      l.truncated = r.truncated;
      bytes += r.text.size();
      newest = std::max(newest, r.ts);
      l.text = std::move(r.text);
    }
    const size_t count = lines.size();
    std::optional<plugin::LogCursor> cursor(plugin::LogCursor{containerId_, std::move(chunk.cursor)});
    auto backoff = 50ms;
    auto lastReport = std::chrono::steady_clock::time_point{};
    for (;;) {
      Status s = seq_->commit(lines, cursor);
      if (s.isOk()) {
        auto& c = owner_.counters_;
        c.linesIngested.fetch_add(count, std::memory_order_relaxed);
        c.bytesIngested.fetch_add(bytes, std::memory_order_relaxed);
        c.batchesCommitted.fetch_add(1, std::memory_order_relaxed);
        if (newest != 0) c.lastIngestLagNs.store(owner_.clock_.now() - newest, std::memory_order_relaxed);
        return true;
      }
      owner_.counters_.commitFailures.fetch_add(1, std::memory_order_relaxed);
      if (s.code() == Status::Code::kFailedPrecondition) (void)seq_->load();  // renumber from storage
      auto now = std::chrono::steady_clock::now();
      if (now - lastReport > 30s) {
        spdlog::warn("deployment {}: cannot store {} lines, holding the follow and retrying: {}",
                     seq_->deploymentId(), count, s.toString());
        lastReport = now;
      }
      std::unique_lock lock(owner_.workMu_);
      if (owner_.workCv_.wait_for(lock, backoff, [&] { return owner_.stopping_; })) return false;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
    }
  }

  void ended(Status why) noexcept override {
    owner_.enqueue(FollowEnded{seq_->deploymentId(), containerId_, std::move(why)});
  }

 private:
  DeploymentManager& owner_;
  std::shared_ptr<Sequencer> seq_;
  const std::string containerId_;
};

DeploymentManager::DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime,
                                     host::LiveBus& bus, Clock& clock)
    : storage_(storage), runtime_(runtime), bus_(bus), clock_(clock) {}

DeploymentManager::~DeploymentManager() { stop(); }

Status DeploymentManager::start() {
  auto rows = storage_.listDeployments();
  if (!rows.isOk()) return rows.status().withContext("loading deployments");
  {
    std::lock_guard lock(mu_);
    for (Deployment& d : rows.value()) {
      auto e = std::make_unique<Entry>();
      e->seq = std::make_shared<Sequencer>(d.id, storage_, bus_, clock_);
      ZC_RETURN_IF_ERROR(e->seq->load().withContext("deployment " + d.id));
      e->row = std::move(d);
      std::string id = e->row.id;
      entries_.emplace(std::move(id), std::move(e));
    }
  }
  spdlog::info("{} stored deployments loaded", entries_.size());
  worker_ = std::thread([this] { workerLoop(); });
  return Status::ok();
}

void DeploymentManager::stop() noexcept {
  {
    std::lock_guard lock(workMu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  stopFlag_ = true;
  workCv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void DeploymentManager::enqueue(Work w) {
  {
    std::lock_guard lock(workMu_);
    if (stopping_) return;
    work_.push_back(std::move(w));
  }
  workCv_.notify_all();
}

void DeploymentManager::onEvent(const plugin::RuntimeEvent& event) noexcept {
  try {
    enqueue(event);
  } catch (const std::exception& e) {
    spdlog::error("dropping runtime event: {}", e.what());
  }
}

bool DeploymentManager::tryConnect() {
  Status s = runtime_->connect();
  if (!s.isOk()) {
    spdlog::warn("runtime not reachable, retrying: {}", s.toString());
    return false;
  }
  auto sub = runtime_->subscribeEvents(this);
  if (!sub.isOk()) {
    spdlog::warn("runtime event subscription failed, retrying: {}", sub.status().toString());
    return false;
  }
  events_ = std::move(sub).value();
  return true;
}

void DeploymentManager::workerLoop() {
  auto backoff = 500ms;
  auto nextConnect = std::chrono::steady_clock::now();
  for (;;) {
    if (runtime_ && !events_ && std::chrono::steady_clock::now() >= nextConnect) {
      if (!tryConnect()) {
        nextConnect = std::chrono::steady_clock::now() + backoff;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
      }
    }
    Work item;
    {
      std::unique_lock lock(workMu_);
      workCv_.wait_for(lock, 1s, [&] { return stopping_ || !work_.empty(); });
      if (stopping_) break;
      if (work_.empty()) continue;
      item = std::move(work_.front());
      work_.pop_front();
    }
    try {
      std::visit([this](const auto& w) { handle(w); }, item);
    } catch (const std::exception& e) {
      spdlog::error("pipeline worker: {}", e.what());
    }
  }
  // Shut down: events first (no new work), then every follow (joins their threads).
  if (events_) events_->stop();
  events_.reset();
  std::vector<Entry*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) all.push_back(e.get());
  }
  for (Entry* e : all) stopFollow(*e);
}

void DeploymentManager::handle(const plugin::RuntimeEvent& ev) {
  using T = plugin::RuntimeEventType;
  switch (ev.type) {
    case T::kConnected:
      counters_.engineConnects.fetch_add(1, std::memory_order_relaxed);
      reconcile();
      runtimeConnected_ = true;
      return;
    case T::kDisconnected:
      counters_.engineDisconnects.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("runtime event stream disconnected; the runtime reconnects");
      return;
    case T::kDestroy: {
      Entry* e = nullptr;
      {
        std::lock_guard lock(mu_);
        auto it = entries_.find(ev.deploymentId);
        if (it != entries_.end()) e = it->second.get();
      }
      if (e != nullptr && e->followContainer == ev.containerId) stopFollow(*e);
      return;
    }
    case T::kCreate:
    case T::kStart:
    case T::kRestart:
    case T::kDie:
    case T::kOom:
    case T::kStop: {
      auto info = runtime_->inspect(ev.containerId);
      if (!info.isOk()) {
        if (!info.status().isNotFound()) {
          spdlog::warn("inspect {} after event: {}", ev.containerId, info.status().toString());
        }
        return;
      }
      applyContainer(info.value());
      return;
    }
  }
}

void DeploymentManager::handle(const FollowEnded& ended) {
  Entry* e;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(ended.deploymentId);
    if (it == entries_.end()) return;
    e = it->second.get();
  }
  if (e->followContainer != ended.containerId) return;  // a follow we already replaced
  stopFollow(*e);
  if (ended.why.isOk()) {
    e->drained.insert(ended.containerId);
  } else if (ended.why.code() != Status::Code::kAborted) {
    spdlog::warn("deployment {}: log follow of {} ended: {}", ended.deploymentId,
                 ended.containerId.substr(0, 12), ended.why.toString());
  }
  // The container may have been restarted between the end of the stream and now.
  auto info = runtime_->inspect(ended.containerId);
  if (info.isOk()) applyContainer(info.value());
}

void DeploymentManager::reconcile() {
  auto list = runtime_->listDeployments();
  if (!list.isOk()) {
    spdlog::warn("reconcile: listing deployments failed: {}", list.status().toString());
    return;
  }
  std::set<std::string> seen;
  for (const plugin::ContainerInfo& c : list.value()) {
    seen.insert(c.containerId);
    applyContainer(c);
  }
  // Follows of containers that no longer exist.
  std::vector<Entry*> gone;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) {
      if (e->follow && !seen.count(e->followContainer)) gone.push_back(e.get());
    }
  }
  for (Entry* e : gone) stopFollow(*e);
  spdlog::info("reconciled {} deployment containers", list->size());
}

Result<DeploymentManager::Entry*> DeploymentManager::entryFor(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it != entries_.end()) return it->second.get();
  }
  auto e = std::make_unique<Entry>();
  e->row.id = id;
  e->row.routeId = id;
  e->row.createdAt = clock_.now();
  e->seq = std::make_shared<Sequencer>(id, storage_, bus_, clock_);
  ZC_RETURN_IF_ERROR(e->seq->load());
  ZC_RETURN_IF_ERROR(storage_.putDeployment(e->row));
  std::lock_guard lock(mu_);
  Entry* raw = e.get();
  entries_.emplace(id, std::move(e));
  return raw;
}

void DeploymentManager::applyContainer(const plugin::ContainerInfo& c) {
  auto entry = entryFor(c.deploymentId);
  if (!entry.isOk()) {
    spdlog::error("deployment {}: {}", c.deploymentId, entry.status().toString());
    return;
  }
  Entry& e = *entry.value();
  Deployment row;
  bool changed;
  {
    std::lock_guard lock(mu_);
    changed = applyContainerInfo(e.row, c);
    row = e.row;
  }
  if (changed) {
    Status s = storage_.putDeployment(row);
    if (!s.isOk()) spdlog::error("deployment {}: storing row: {}", row.id, s.toString());
  }
  if (e.follow && e.followContainer == c.containerId) return;  // already following
  if (!c.running && e.drained.count(c.containerId)) return;   // read to its end already
  if (e.follow) stopFollow(e);                                 // a replaced container
  startFollow(e, c);
}

void DeploymentManager::startFollow(Entry& e, const plugin::ContainerInfo& c) {
  std::string cursor;
  auto stored = storage_.getCursor(c.deploymentId, c.containerId);
  if (stored.isOk()) {
    cursor = std::move(stored).value();
  } else if (!stored.status().isNotFound()) {
    spdlog::error("deployment {}: reading cursor: {}", c.deploymentId, stored.status().toString());
    return;
  }
  auto consumer = std::make_unique<FollowConsumer>(*this, e.seq, c.containerId);
  auto sub = runtime_->followLogs(c, cursor, consumer.get());
  if (!sub.isOk()) {
    spdlog::warn("deployment {}: cannot follow {}: {}", c.deploymentId, c.containerId.substr(0, 12),
                 sub.status().toString());
    return;
  }
  e.consumer = std::move(consumer);
  e.follow = std::move(sub).value();
  e.followContainer = c.containerId;
  e.drained.erase(c.containerId);
  activeFollows_.fetch_add(1);
  spdlog::info("deployment {}: following {} from {}", c.deploymentId, c.containerId.substr(0, 12),
               cursor.empty() ? "the start of its log" : "the stored cursor");
}

void DeploymentManager::stopFollow(Entry& e) {
  if (!e.follow) return;
  e.follow->stop();  // joins: no consume() runs after this
  e.follow.reset();
  activeFollows_.fetch_sub(1);
  e.consumer.reset();
  e.followContainer.clear();
}

std::vector<Deployment> DeploymentManager::list() const {
  std::lock_guard lock(mu_);
  std::vector<Deployment> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e->row);
  return out;
}

Result<Deployment> DeploymentManager::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::notFound("deployment '" + id + "' is unknown");
  return it->second->row;
}

Status DeploymentManager::appendSystemLine(const std::string& id, std::string text) {
  std::shared_ptr<Sequencer> seq;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return Status::notFound("deployment '" + id + "' is unknown");
    seq = it->second->seq;
  }
  return seq->appendSystemLine(std::move(text));
}

size_t DeploymentManager::activeFollows() const { return activeFollows_.load(); }

}  // namespace zc::collector
