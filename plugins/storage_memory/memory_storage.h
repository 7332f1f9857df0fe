// MemoryStorage: the ephemeral storage plugin. Everything lives in std::maps and is gone when the
// process ends; meant for tests, demos and hosts that keep nothing.
//
// Implements zc/plugin/storage.h with the same observable behaviour as the RocksDB plugin
// (the conformance suite runs against both): per-deployment state, stdout/stderr lines and
// system lines kept apart so each class has its own TTL, reads hide expired data at the
// context clock's "now".
//
// Thread-safety: every method may be called concurrently. A shared_mutex guards the map of
// deployments; each deployment's state has its own mutex, so different deployments never contend
// beyond the brief map lookup.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "zc/plugin/retention_ttls.h"
#include "zc/plugin/storage.h"

namespace zc::storage {

class MemoryStorage final : public plugin::Storage {
 public:
  MemoryStorage() = default;

  // Takes no options (the store keeps no files): refuses every key; keeps the logger and clock.
  Status configure(const plugin::PluginContext& ctx) noexcept override;

  Status open() noexcept override;
  Status close() noexcept override;
  void setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept override;

  Status putDeployment(const Deployment& d) noexcept override;
  Result<Deployment> getDeployment(std::string_view id) noexcept override;
  Result<std::vector<Deployment>> listDeployments() noexcept override;
  Status deleteDeployment(std::string_view id) noexcept override;

  Status appendLogs(const plugin::LogBatch& batch) noexcept override;
  Result<uint64_t> nextLineNo(std::string_view deploymentId) noexcept override;
  Result<std::string> getCursor(std::string_view deploymentId,
                                std::string_view key) noexcept override;
  Result<plugin::LogPage> readLogs(std::string_view deploymentId, uint64_t since,
                                   plugin::LogReadLimit limit) noexcept override;

  Status appendMetrics(const std::vector<MetricSample>& samples) noexcept override;
  Result<std::vector<MetricSample>> readMetrics(std::string_view deploymentId, TimeNs from,
                                                TimeNs to) noexcept override;

  Result<plugin::RetentionReport> applyRetention() noexcept override;
  plugin::StorageStats stats() noexcept override;
  Result<uint64_t> usedBytes() noexcept override;  // the estimate stats() gives
  Status dropLogLinesThrough(std::string_view deploymentId,
                             uint64_t throughLineNo) noexcept override;

 private:
  struct StoredLine {
    LogStream stream;
    bool truncated;
    TimeNs ts;
    std::string text;
  };
  struct MetricValue {
    double cpuPct;
    double memUsedMb;
    double memLimitMb;
  };
  // Everything of one deployment; guarded by mu.
  struct State {
    std::mutex mu;
    std::optional<Deployment> row;
    uint64_t next = 1;
    std::map<uint64_t, StoredLine> logs;    // stdout + stderr, by lineNo
    std::map<uint64_t, StoredLine> system;  // system lines, by lineNo
    std::map<std::string, std::string, std::less<>> cursors;
    std::map<TimeNs, MetricValue> metrics;  // one sample per time; a re-append replaces
  };

  // The state of `id`, or null when it has none.
  std::shared_ptr<State> find(std::string_view id) const;
  // The state of `id`, created when missing.
  std::shared_ptr<State> findOrCreate(std::string_view id);
  std::vector<std::shared_ptr<State>> allStates() const;

  Status appendLogsImpl(const plugin::LogBatch& batch);
  Result<plugin::LogPage> readLogsImpl(std::string_view id, uint64_t since, plugin::LogReadLimit limit);
  Result<plugin::RetentionReport> applyRetentionImpl();

  static bool expired(TimeNs ts, int64_t ttl, TimeNs now) noexcept;
  static uint64_t lineBytes(const StoredLine& l) noexcept;

  plugin::Logger* logger_ = nullptr;  // set by configure()
  Clock* clock_ = nullptr;

  mutable std::shared_mutex mapMu_;
  std::unordered_map<std::string, std::shared_ptr<State>> states_;  // guarded by mapMu_

  plugin::RetentionTtls ttls_;
  std::mutex retentionMu_;  // one applyRetention() at a time

  std::atomic<uint64_t> bytesHeld_{0};  // estimate for stats()
};

}  // namespace zc::storage
