// RocksDbStorage: the persistent storage plugin, one RocksDB database in `data_dir`.
//
// Implements zc/plugin/storage.h. Column families per data class: deployments, logs
// (stdout+stderr), system (system lines), metrics, meta (next lineNo and cursors per
// deployment); key and value layout in encoding.h. One appendLogs() is one rocksdb::WriteBatch
// (lines, cursor, next lineNo), so a crash keeps all of a batch or none of it. With sync_writes
// off the WAL is written (not fsynced) before appendLogs() returns: a killed process loses
// nothing acknowledged, a machine crash may lose the last writes.
//
// This class is the plugin boundary: it hands each call, guarded (zc/plugin/guard.h), to the
// part that owns it: Database (rocksdb_db.h: the handle, open/close, reopen after a fatal write
// error, health), DeploymentStore, LogStore, MetricStore and Retention, which share the Database
// and the StoreContext (logger, clock, TTLs). Only deleteDeployment(), which touches every part,
// is composed here.
//
// Thread-safety: every method except configure()/open()/close() may be called concurrently
// (see each part for how).
#pragma once

#include <vector>

#include "deployment_store.h"
#include "log_store.h"
#include "metric_store.h"
#include "rocksdb_db.h"
#include "rocksdb_options.h"
#include "rocksdb_retention.h"
#include "zc/plugin/storage.h"

namespace zc::storage {

class RocksDbStorage final : public plugin::Storage {
 public:
  RocksDbStorage();
  // Closes the database if the host did not.
  ~RocksDbStorage() override;

  // The keys of this plugin's README: data_dir, sync_writes, block_cache_mb, write_buffer_mb,
  // compression, max_open_files.
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  // Checks the options and keeps them with the logger and clock; touches nothing outside.
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
  Result<uint64_t> usedBytes() noexcept override;
  Status dropLogLinesThrough(std::string_view deploymentId,
                             uint64_t throughLineNo) noexcept override;

 private:
  // Deletes the row and every key of `id` in one write, under its append lock; the deleted
  // ranges are compacted by the next applyRetention().
  Status removeDeployment(std::string_view id);

  // Declaration order is construction order: every part refers to those above it.
  StoreContext ctx_;
  RocksDbOptions opts_;  // set by configure()
  Database db_{ctx_};
  DeploymentStore deployments_{db_};
  LogStore logs_{db_, ctx_};
  MetricStore metrics_{db_, ctx_};
  Retention retention_{db_, ctx_};
};

}  // namespace zc::storage
