#include "memory_storage.h"

#include <algorithm>
#include <limits>

#include "zc/plugin/guard.h"

namespace zc::storage {

namespace {

// Per-entry bookkeeping counted by stats(), roughly a map node.
constexpr uint64_t kNodeOverhead = 64;

constexpr std::string_view kWho = "memory storage";

}  // namespace

Status MemoryStorage::configure(const plugin::PluginContext& ctx) noexcept {
  logger_ = ctx.logger;
  clock_ = ctx.clock;
  return Plugin::configure(ctx);  // takes no options: refuses every key
}

Status MemoryStorage::open() noexcept {
  return logger_ == nullptr ? Status::failedPrecondition("memory storage: not configured")
                            : Status::ok();
}

Status MemoryStorage::close() noexcept {
  return Status::ok();
}

void MemoryStorage::setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept {
  ttls_.set(policy);
}

bool MemoryStorage::expired(TimeNs ts, int64_t ttl, TimeNs now) noexcept {
  return plugin::isExpired(ts, ttl, now);
}

uint64_t MemoryStorage::lineBytes(const StoredLine& l) noexcept {
  return kNodeOverhead + l.text.size();
}

std::shared_ptr<MemoryStorage::State> MemoryStorage::find(std::string_view id) const {
  std::shared_lock lock(mapMu_);
  auto it = states_.find(std::string(id));
  return it == states_.end() ? nullptr : it->second;
}

std::shared_ptr<MemoryStorage::State> MemoryStorage::findOrCreate(std::string_view id) {
  if (auto s = find(id)) return s;
  std::unique_lock lock(mapMu_);
  auto& slot = states_[std::string(id)];
  if (!slot) slot = std::make_shared<State>();
  return slot;
}

std::vector<std::shared_ptr<MemoryStorage::State>> MemoryStorage::allStates() const {
  std::shared_lock lock(mapMu_);
  std::vector<std::shared_ptr<State>> out;
  out.reserve(states_.size());
  for (const auto& [id, s] : states_) out.push_back(s);
  return out;
}

// --- deployments

Status MemoryStorage::putDeployment(const Deployment& d) noexcept {
  return plugin::guarded(kWho, "putDeployment", [&]() -> Status {
    ZC_RETURN_IF_ERROR(validateDeploymentId(d.id));
    auto state = findOrCreate(d.id);
    std::lock_guard lock(state->mu);
    state->row = d;
    return Status::ok();
  });
}

Result<Deployment> MemoryStorage::getDeployment(std::string_view id) noexcept {
  return plugin::guarded(kWho, "getDeployment", [&]() -> Result<Deployment> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(id));
    if (auto state = find(id)) {
      std::lock_guard lock(state->mu);
      if (state->row) return *state->row;
    }
    return Status::notFound("deployment '" + std::string(id) + "' is unknown");
  });
}

Result<std::vector<Deployment>> MemoryStorage::listDeployments() noexcept {
  return plugin::guarded(kWho, "listDeployments", [&]() -> Result<std::vector<Deployment>> {
    std::vector<Deployment> out;
    for (const auto& state : allStates()) {
      std::lock_guard lock(state->mu);
      if (state->row) out.push_back(*state->row);
    }
    return out;
  });
}

Status MemoryStorage::deleteDeployment(std::string_view id) noexcept {
  return plugin::guarded(kWho, "deleteDeployment", [&]() -> Status {
    ZC_RETURN_IF_ERROR(validateDeploymentId(id));
    std::shared_ptr<State> state;
    {
      std::unique_lock lock(mapMu_);
      auto it = states_.find(std::string(id));
      if (it == states_.end()) return Status::ok();
      state = std::move(it->second);
      states_.erase(it);
    }
    // An append that found the state before the erase completes into it and is dropped with it:
    // it is ordered before the delete.
    std::lock_guard lock(state->mu);
    uint64_t bytes = 0;
    for (const auto& [n, l] : state->logs) bytes += lineBytes(l);
    for (const auto& [n, l] : state->system) bytes += lineBytes(l);
    bytes += state->metrics.size() * kNodeOverhead;
    bytesHeld_.fetch_sub(bytes);
    state->logs.clear();
    state->system.clear();
    state->metrics.clear();
    state->cursors.clear();
    return Status::ok();
  });
}

// --- logs

Status MemoryStorage::appendLogs(const plugin::LogBatch& batch) noexcept {
  return plugin::guarded(kWho, "appendLogs", [&] { return appendLogsImpl(batch); });
}

Status MemoryStorage::appendLogsImpl(const plugin::LogBatch& batch) {
  const std::string& id = batch.deploymentId;
  ZC_RETURN_IF_ERROR(plugin::validateLogBatchShape(batch));
  const auto& lines = batch.lines;
  if (lines.empty() && !batch.cursor) return Status::ok();

  auto state = findOrCreate(id);
  std::lock_guard lock(state->mu);
  if (!lines.empty() && lines[0].lineNo != state->next) {
    return Status::failedPrecondition("appendLogs: batch for '" + id + "' starts at lineNo " +
                                      std::to_string(lines[0].lineNo) + ", expected " +
                                      std::to_string(state->next));
  }
  // Copy first, then commit with non-throwing moves: a bad_alloc leaves nothing half-written.
  std::vector<std::pair<uint64_t, StoredLine>> copies;
  copies.reserve(lines.size());
  uint64_t bytes = 0;
  for (const LogLine& line : lines) {
    copies.emplace_back(line.lineNo, StoredLine{line.stream, line.truncated, line.ts, line.text});
    bytes += lineBytes(copies.back().second);
  }
  std::optional<std::pair<std::string, std::string>> cursor;
  if (batch.cursor) cursor.emplace(batch.cursor->key, batch.cursor->value);
  auto hintLogs = state->logs.end();
  auto hintSystem = state->system.end();
  for (auto& [lineNo, stored] : copies) {
    if (stored.stream == LogStream::kSystem) {
      hintSystem = state->system.emplace_hint(hintSystem, lineNo, std::move(stored));
      ++hintSystem;
    } else {
      hintLogs = state->logs.emplace_hint(hintLogs, lineNo, std::move(stored));
      ++hintLogs;
    }
  }
  if (cursor) state->cursors.insert_or_assign(std::move(cursor->first), std::move(cursor->second));
  if (!lines.empty()) state->next = lines.back().lineNo + 1;
  bytesHeld_.fetch_add(bytes);
  return Status::ok();
}

Result<uint64_t> MemoryStorage::nextLineNo(std::string_view deploymentId) noexcept {
  return plugin::guarded(kWho, "nextLineNo", [&]() -> Result<uint64_t> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    auto state = find(deploymentId);
    if (!state) return uint64_t{1};
    std::lock_guard lock(state->mu);
    return state->next;
  });
}

Result<std::string> MemoryStorage::getCursor(std::string_view deploymentId,
                                             std::string_view key) noexcept {
  return plugin::guarded(kWho, "getCursor", [&]() -> Result<std::string> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    if (auto state = find(deploymentId)) {
      std::lock_guard lock(state->mu);
      if (auto it = state->cursors.find(key); it != state->cursors.end()) return it->second;
    }
    return Status::notFound("no cursor '" + std::string(key) + "' for deployment '" +
                            std::string(deploymentId) + "'");
  });
}

Result<plugin::LogPage> MemoryStorage::readLogs(std::string_view deploymentId, uint64_t since,
                                                plugin::LogReadLimit limit) noexcept {
  return plugin::guarded(kWho, "readLogs", [&] { return readLogsImpl(deploymentId, since, limit); });
}

Result<plugin::LogPage> MemoryStorage::readLogsImpl(std::string_view id, uint64_t since,
                                                    plugin::LogReadLimit limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  plugin::LogPage page;
  auto state = find(id);
  if (!state) return page;
  const TimeNs now = clock_->now();
  const int64_t logsTtl = ttls_.logsTtl();
  const int64_t systemTtl = ttls_.systemTtl();

  std::lock_guard lock(state->mu);
  page.nextLineNo = state->next;
  page.oldestLineNo = state->next;
  using It = std::map<uint64_t, StoredLine>::const_iterator;
  auto skip = [&](It it, It end, int64_t ttl) {
    while (it != end && expired(it->second.ts, ttl, now)) ++it;
    return it;
  };
  It l = skip(state->logs.begin(), state->logs.end(), logsTtl);
  It s = skip(state->system.begin(), state->system.end(), systemTtl);
  if (l != state->logs.end()) page.oldestLineNo = std::min(page.oldestLineNo, l->first);
  if (s != state->system.end()) page.oldestLineNo = std::min(page.oldestLineNo, s->first);
  if (limit.lines == 0 || since == std::numeric_limits<uint64_t>::max()) return page;

  l = state->logs.lower_bound(since + 1);
  s = state->system.lower_bound(since + 1);
  size_t textBytes = 0;
  while (page.lines.size() < limit.lines && textBytes < limit.bytes) {
    l = skip(l, state->logs.end(), logsTtl);
    s = skip(s, state->system.end(), systemTtl);
    It pick;
    if (l != state->logs.end() && (s == state->system.end() || l->first < s->first)) {
      pick = l++;
    } else if (s != state->system.end()) {
      pick = s++;
    } else {
      break;
    }
    const StoredLine& stored = pick->second;
    page.lines.push_back(LogLine{std::string(id), pick->first, stored.stream, stored.ts,
                                 stored.text, stored.truncated});
    textBytes += stored.text.size();
  }
  return page;
}

// --- metrics

Status MemoryStorage::appendMetrics(const std::vector<MetricSample>& samples) noexcept {
  return plugin::guarded(kWho, "appendMetrics", [&]() -> Status {
    for (const auto& s : samples) ZC_RETURN_IF_ERROR(validateDeploymentId(s.deploymentId));
    for (const auto& s : samples) {
      auto state = findOrCreate(s.deploymentId);
      std::lock_guard lock(state->mu);
      auto [it, inserted] = state->metrics.insert_or_assign(
          s.sampledAt, MetricValue{s.cpuPct, s.memUsedMb, s.memLimitMb});
      if (inserted) bytesHeld_.fetch_add(kNodeOverhead);
    }
    return Status::ok();
  });
}

Result<std::vector<MetricSample>> MemoryStorage::readMetrics(std::string_view deploymentId,
                                                             TimeNs from, TimeNs to) noexcept {
  return plugin::guarded(kWho, "readMetrics", [&]() -> Result<std::vector<MetricSample>> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    std::vector<MetricSample> out;
    int64_t ttl = ttls_.metricsTtl();
    if (ttl > 0) from = std::max(from, plugin::retentionCutoff(clock_->now(), ttl));
    if (from > to) return out;
    auto state = find(deploymentId);
    if (!state) return out;
    std::lock_guard lock(state->mu);
    for (auto it = state->metrics.lower_bound(from); it != state->metrics.end() && it->first <= to;
         ++it) {
      out.push_back(MetricSample{std::string(deploymentId), it->first, it->second.cpuPct,
                                 it->second.memUsedMb, it->second.memLimitMb});
    }
    return out;
  });
}

// --- retention

Result<plugin::RetentionReport> MemoryStorage::applyRetention() noexcept {
  return plugin::guarded(kWho, "applyRetention", [&] { return applyRetentionImpl(); });
}

Result<plugin::RetentionReport> MemoryStorage::applyRetentionImpl() {
  std::lock_guard retentionLock(retentionMu_);
  const TimeNs now = clock_->now();
  const plugin::RetentionPolicy ttl = ttls_.policy();
  plugin::RetentionReport report;
  // Same rule as the RocksDB plugin: per class, delete the head of the lineNo-ordered lines up
  // to the first line that is still live (ts is almost monotonic; stragglers stay hidden).
  auto trimHead = [&](std::map<uint64_t, StoredLine>& lines, int64_t ttl, uint64_t* deleted) {
    if (ttl <= 0) return;
    auto it = lines.begin();
    uint64_t bytes = 0;
    for (; it != lines.end() && expired(it->second.ts, ttl, now); ++it) {
      bytes += lineBytes(it->second);
      ++*deleted;
    }
    lines.erase(lines.begin(), it);
    bytesHeld_.fetch_sub(bytes);
  };
  for (const auto& state : allStates()) {
    std::lock_guard lock(state->mu);
    trimHead(state->logs, ttl.logsTtl, &report.logLinesDeleted);
    trimHead(state->system, ttl.systemTtl, &report.systemLinesDeleted);
    if (ttl.metricsTtl > 0) {
      auto end = state->metrics.lower_bound(plugin::retentionCutoff(now, ttl.metricsTtl));
      uint64_t n = static_cast<uint64_t>(std::distance(state->metrics.begin(), end));
      state->metrics.erase(state->metrics.begin(), end);
      report.metricSamplesDeleted += n;
      bytesHeld_.fetch_sub(n * kNodeOverhead);
    }
  }
  return report;
}

Result<uint64_t> MemoryStorage::usedBytes() noexcept { return bytesHeld_.load(); }

Status MemoryStorage::dropLogLinesThrough(std::string_view deploymentId,
                                          uint64_t throughLineNo) noexcept {
  return plugin::guarded(kWho, "dropLogLinesThrough", [&]() -> Status {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    std::shared_ptr<State> state = find(deploymentId);
    if (!state) return Status::ok();
    std::lock_guard lock(state->mu);
    auto end = state->logs.upper_bound(throughLineNo);
    uint64_t bytes = 0;
    for (auto it = state->logs.begin(); it != end; ++it) bytes += lineBytes(it->second);
    state->logs.erase(state->logs.begin(), end);
    bytesHeld_.fetch_sub(bytes);
    return Status::ok();
  });
}

plugin::StorageStats MemoryStorage::stats() noexcept {
  plugin::StorageStats out;
  out.bytesOnDisk = bytesHeld_.load();
  return out;
}

}  // namespace zc::storage
