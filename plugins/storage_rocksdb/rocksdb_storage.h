// RocksDbStorage: the persistent storage plugin, one RocksDB database in `data_dir`.
//
// Implements zc/plugin/storage.h. Column families per data class: deployments, logs
// (stdout+stderr), system (system lines), metrics, meta (next lineNo and cursors per
// deployment); key and value layout in encoding.h. One appendLogs() is one rocksdb::WriteBatch
// (lines, cursor, next lineNo), so a crash keeps all of a batch or none of it. With sync_writes
// off the WAL is written (not fsynced) before appendLogs() returns: a killed process loses
// nothing acknowledged, a machine crash may lose the last writes.
//
// Thread-safety: every method except open()/close() may be called concurrently. Appends are
// serialised per deployment by a striped mutex that also guards the cached next lineNo, so
// appenders of different deployments rarely share a lock. Every call holds a shared lock on the
// DB handle; only a reopen after a fatal write error (which RocksDB cannot resume from) takes it
// exclusively.
#pragma once

#include <rocksdb/db.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "zc/plugin/storage.h"

namespace zc::storage {

class RocksDbStorage final : public plugin::Storage {
 public:
  RocksDbStorage();
  // Closes the database if the host did not.
  ~RocksDbStorage() override;

  // The keys of this plugin's README: data_dir, sync_writes, block_cache_mb, write_buffer_mb,
  // compression.
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
                                   size_t limit) noexcept override;

  Status appendMetrics(const std::vector<MetricSample>& samples) noexcept override;
  Result<std::vector<MetricSample>> readMetrics(std::string_view deploymentId, TimeNs from,
                                                TimeNs to) noexcept override;

  Result<plugin::RetentionReport> applyRetention() noexcept override;
  plugin::StorageStats stats() noexcept override;

 private:
  // Index into handles_.
  enum Cf : size_t { kDeployments = 0, kLogs, kSystem, kMetrics, kMeta, kDefault, kCfCount };

  // One lock stripe: serialises appends of the deployments hashed to it and guards their
  // cached next lineNo (absent = not read from the DB yet).
  struct alignas(64) Stripe {
    std::mutex mu;
    std::map<std::string, uint64_t, std::less<>> next;
  };
  static constexpr size_t kStripeCount = 64;

  // A key range whose deleted data the next applyRetention() compacts away.
  struct PendingCompaction {
    Cf cf;
    std::string begin;
    std::string end;
  };

  struct Options {
    std::string dataDir;
    bool syncWrites = false;
    uint64_t blockCacheBytes = 8 * 1024 * 1024;
    uint64_t writeBufferBytes = 16 * 1024 * 1024;
    std::string compression = "lz4";
  };
  using DbLock = std::shared_lock<std::shared_mutex>;

  Status openImpl();
  // Opens the DB in opts_.dataDir. Caller holds dbMu_ exclusively (or is open()).
  Status openDb();
  // Closes the DB; syncs the WAL first unless a write has failed (a WAL writer that saw an error
  // must not be touched again: Debian's librocksdb asserts). Caller holds dbMu_ exclusively.
  Status closeDb();
  // Takes `lock` (shared) and checks that the DB is usable; a write first reopens a DB that
  // failed fatally.
  Status enter(DbLock* lock, bool forWrite);
  void reopenIfNeeded();
  Status appendLogsImpl(const plugin::LogBatch& batch);
  Result<plugin::LogPage> readLogsImpl(std::string_view id, uint64_t since, size_t limit);
  Result<plugin::RetentionReport> applyRetentionImpl();
  Status deleteDeploymentImpl(std::string_view id);

  Stripe& stripeFor(std::string_view id) noexcept;
  // The next lineNo of `id`, from the stripe's cache or the DB. Caller holds stripe.mu.
  Result<uint64_t> nextLineNoLocked(Stripe& stripe, std::string_view id);
  // Reads the stored next lineNo (1 when none) at `snapshot` (null: latest).
  Result<uint64_t> readNextLineNo(std::string_view id, const rocksdb::Snapshot* snapshot);
  // Writes `batch` and records the outcome for stats().
  Status write(rocksdb::WriteBatch* batch);
  Status deleteRange(Cf cf, const std::string& begin, const std::string& end);
  void recordWriteOutcome(const rocksdb::Status& s);
  // Deletes the expired head of every deployment's range in a logs or system CF.
  Status retainLines(Cf cf, TimeNs cutoff, uint64_t* deleted,
                     std::vector<PendingCompaction>* ranges);
  Status retainMetrics(TimeNs cutoff, uint64_t* deleted, std::vector<PendingCompaction>* ranges);
  bool expired(TimeNs ts, int64_t ttl, TimeNs now) const noexcept;

  plugin::Logger* logger_ = nullptr;  // set by configure()
  Clock* clock_ = nullptr;

  Options opts_;
  std::string dataDir_;
  // The handle and CFs may only be replaced under an exclusive dbMu_ (open, close, reopen).
  std::shared_mutex dbMu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kCfCount> handles_{};
  rocksdb::WriteOptions writeOptions_;

  std::atomic<int64_t> logsTtl_;
  std::atomic<int64_t> systemTtl_;
  std::atomic<int64_t> metricsTtl_;

  std::array<Stripe, kStripeCount> stripes_;

  std::mutex retentionMu_;  // one applyRetention() at a time
  std::mutex pendingMu_;
  std::vector<PendingCompaction> pending_;  // guarded by pendingMu_

  std::atomic<bool> sawWriteError_{false};  // since the DB was opened
  std::atomic<bool> needsReopen_{false};    // Resume() failed: the next write reopens
  std::chrono::steady_clock::time_point lastReopenFailure_{};  // guarded by dbMu_ (exclusive)
  std::string reopenError_;                                    // guarded by dbMu_

  std::atomic<bool> healthy_{true};
  std::mutex detailMu_;
  std::string detail_;  // guarded by detailMu_
};

}  // namespace zc::storage
