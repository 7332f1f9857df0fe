// PostgresStorage: the `postgres` storage plugin (zc_storage_postgres.so), the storage of the
// central instance (`--runtime none --storage postgres`). It reads and writes the same schema the
// hosts' postgres sinks fill (plugins/postgres_common/pg_schema.cpp), so one instance serves the
// deployments, lines and samples of every host; Deployment::host is the forwarding host.
//
// Implements zc/plugin/storage.h (tests/plugins/storage_conformance runs against it; README.md
// lists the cases that do not apply: text is UTF-8 without NUL, times are microseconds, memory is
// whole MiB). Particular to this plugin:
//   - putDeployment() of a row whose stored status is live (running, unhealthy, crashed) with
//     status `stopped` records a stop request (stop_requested_at): the owning host's collector
//     picks it up through its sink and runs the stop (docs/fleet.md).
//   - waitForChanges() LISTENs on the channel the sinks NOTIFY in the transaction that stores a
//     deployment's lines or row, on a connection of its own.
//   - applyRetention() deletes in batches of `retention_batch` rows, each its own statement.
// Thread-safety: as plugin::Storage; statements run on a bounded pool of connections (pool_size).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "pg_pool.h"
#include "zc/plugin/retention_ttls.h"
#include "zc/plugin/storage.h"

namespace zc::pgstorage {

class PostgresStorage final : public plugin::Storage {
 public:
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  Status configure(const plugin::PluginContext& context) noexcept override;

  Status open() noexcept override;
  Status close() noexcept override;
  void setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept override;

  Status putDeployment(const Deployment& d) noexcept override;
  Result<Deployment> getDeployment(std::string_view id) noexcept override;
  Result<std::vector<Deployment>> listDeployments() noexcept override;
  Status deleteDeployment(std::string_view id) noexcept override;

  Status appendLogs(const plugin::LogBatch& batch) noexcept override;
  Result<uint64_t> nextLineNo(std::string_view deploymentId) noexcept override;
  // The database's size (pg_database_size): what --max-storage-bytes compares.
  Result<uint64_t> usedBytes() noexcept override;
  // One DELETE of the deployment's stdout/stderr lines through that lineNo; the space returns to
  // PostgreSQL's free map (autovacuum), not at once to the filesystem.
  Status dropLogLinesThrough(std::string_view deploymentId,
                             uint64_t throughLineNo) noexcept override;
  Result<std::string> getCursor(std::string_view deploymentId,
                                std::string_view key) noexcept override;
  Result<plugin::LogPage> readLogs(std::string_view deploymentId, uint64_t since,
                                   plugin::LogReadLimit limit) noexcept override;

  Status appendMetrics(const std::vector<MetricSample>& samples) noexcept override;
  Result<std::vector<MetricSample>> readMetrics(std::string_view deploymentId, TimeNs from,
                                                TimeNs to) noexcept override;

  Result<plugin::RetentionReport> applyRetention() noexcept override;
  plugin::StorageStats stats() noexcept override;

  Result<std::vector<std::string>> waitForChanges(int64_t timeoutMs) noexcept override;
  // The hosts table (last_seen_at: the sinks' heartbeat, about every second).
  Result<std::vector<plugin::HostRecord>> listHosts() noexcept override;

 private:
  Result<std::unique_ptr<PgConnection>> connect();
  Status appendLogsIn(PgConnection& c, const plugin::LogBatch& batch);
  Result<plugin::LogPage> readLogsIn(PgConnection& c, const std::string& id, uint64_t since,
                                     plugin::LogReadLimit limit);
  Result<uint64_t> nextLineNoIn(PgConnection& c, const std::string& id);
  Result<int64_t> deleteInBatches(PgConnection& c, const std::string& table,
                                  const std::string& where, TimeNs cutoff);
  // Notes the outcome for stats(); returns `st`.
  Status track(Status st);

  plugin::Logger* logger_ = nullptr;
  Clock* clock_ = nullptr;
  std::string url_;
  std::string passwordFile_;
  int64_t connectTimeoutS_ = 5;
  int64_t statementTimeoutMs_ = 30000;
  size_t poolSize_ = 8;
  int64_t retentionBatch_ = 10000;
  std::string target_;  // the redacted connection string, for messages

  std::unique_ptr<PgPool> pool_;
  plugin::RetentionTtls ttls_;
  std::mutex retentionMu_;  // one applyRetention() at a time

  std::unique_ptr<PgConnection> listen_;  // waitForChanges()'s own connection (one caller)

  std::mutex statsMu_;
  bool healthy_ = true;  // guarded by statsMu_
  std::string detail_;   // guarded by statsMu_
};

}  // namespace zc::pgstorage
