// Database: the RocksDB handle the plugin's data classes share, and what they share with it.
//
// It opens the DB (with its column families, see column_families.h) in data_dir, closes it
// cleanly, and keeps it usable after a failed write: every write's outcome is recorded for
// stats(); after a failure it calls DB::Resume() (enough for ENOSPC) and, when RocksDB cannot
// resume (a fatal error such as EIO on the WAL), the next write reopens the DB (at most once a
// second while that keeps failing).
//
// Thread-safety: open() and close() are called once each by the host, before and after all
// other calls. Every other method may be called concurrently. A caller enter()s first and uses
// db() and cf() only while it holds the shared lock enter() took; only a reopen takes the lock
// exclusively. OWNERSHIP: the handles belong to the Database; the StoreContext to its owner,
// which keeps it alive longer than the Database.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "column_families.h"
#include "rocksdb_options.h"
#include "zc/clock.h"
#include "zc/plugin/retention_ttls.h"
#include "zc/plugin/storage.h"

namespace zc::storage {

// What configure() gives every part of the plugin: the host's logger and clock (null until
// configure(); they outlive the plugin object) and the TTLs setRetentionPolicy() sets.
struct StoreContext {
  plugin::Logger* logger = nullptr;
  Clock* clock = nullptr;
  plugin::RetentionTtls ttls;
};

// `s` as our Status, the message "<context>: <RocksDB's message>"; OK for OK.
Status fromRocks(const rocksdb::Status& s, std::string_view context);

class Database {
 public:
  using Lock = std::shared_lock<std::shared_mutex>;

  explicit Database(const StoreContext& ctx) : ctx_(ctx) {}
  // Closes the DB if still open.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // `f` runs at the end of every close, the close of a reopen included, with the DB held
  // exclusively: the data classes drop what they cached from it there. Set before open().
  void setOnClose(std::function<void()> f) { onClose_ = std::move(f); }

  // Opens (creating when missing) the DB in opts.dataDir. FailedPrecondition when already open
  // or not configured (no logger in the context); IOError when data_dir cannot be created.
  Status open(const RocksDbOptions& opts);
  // Flushes every column family, syncs the WAL and closes; OK when not open.
  Status close();

  // Takes `lock` (shared) and checks that the DB is usable: FailedPrecondition when not open,
  // IOError when a reopen after a fatal write error failed. With `forWrite`, first reopens a DB
  // that failed fatally.
  Status enter(Lock* lock, bool forWrite);

  // Valid while the caller holds the lock enter() took.
  rocksdb::DB* db() const noexcept { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf cf) const noexcept { return handles_[cf]; }
  std::vector<rocksdb::ColumnFamilyHandle*> allCfs() const {
    return {handles_.begin(), handles_.end()};
  }

  // Write `batch` / delete [begin, end) in `cf`, and record the outcome for stats().
  Status write(rocksdb::WriteBatch* batch);
  Status deleteRange(Cf cf, const std::string& begin, const std::string& end);

  // bytesOnDisk: every file under data_dir (SST, WAL, MANIFEST); healthy: whether the last
  // write succeeded, with its error as detail when not.
  // Storage::usedBytes(): table files (live or awaiting deletion) plus memtables (what the WAL
  // holds), summed over the column families from RocksDB's own properties.
  Result<uint64_t> usedBytes();
  plugin::StorageStats stats();

 private:
  // Opens the DB in opts_.dataDir. Caller holds mu_ exclusively (or is open()).
  Status openDb();
  // Closes the DB; syncs the WAL first unless a write has failed (a WAL writer that saw an error
  // must not be touched again: Debian's librocksdb asserts). Caller holds mu_ exclusively.
  Status closeDb();
  void reopenIfNeeded();
  void recordWriteOutcome(const rocksdb::Status& s);

  const StoreContext& ctx_;
  std::function<void()> onClose_;
  RocksDbOptions opts_;
  std::string dataDir_;
  // The handle and CFs may only be replaced under an exclusive mu_ (open, close, reopen).
  std::shared_mutex mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, kCfCount> handles_{};
  rocksdb::WriteOptions writeOptions_;

  std::atomic<bool> sawWriteError_{false};  // since the DB was opened
  std::atomic<bool> needsReopen_{false};    // Resume() failed: the next write reopens
  std::chrono::steady_clock::time_point lastReopenFailure_{};  // guarded by mu_ (exclusive)
  std::string reopenError_;                                    // guarded by mu_

  std::atomic<bool> healthy_{true};
  std::mutex detailMu_;
  std::string detail_;  // guarded by detailMu_
};

}  // namespace zc::storage
