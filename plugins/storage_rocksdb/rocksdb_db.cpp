#include "rocksdb_db.h"

#include <filesystem>
#include <system_error>

namespace zc::storage {

Status fromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return Status::ok();
  std::string msg = std::string(context) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::notFound(std::move(msg));
  if (s.IsCorruption()) return Status::corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::invalidArgument(std::move(msg));
  if (s.IsIOError() || s.IsNoSpace()) return Status::ioError(std::move(msg));
  if (s.IsTimedOut()) return Status::timeout(std::move(msg));
  if (s.IsAborted() || s.IsShutdownInProgress()) return Status::aborted(std::move(msg));
  return Status::ioError(std::move(msg));
}

Database::~Database() {
  if (db_) (void)close();
}

Status Database::open(const RocksDbOptions& opts) {
  if (db_) return Status::failedPrecondition("rocksdb storage: already open");
  if (ctx_.logger == nullptr) return Status::failedPrecondition("rocksdb storage: not configured");
  opts_ = opts;
  return openDb();
}

Status Database::openDb() {
  std::error_code ec;
  std::filesystem::create_directories(opts_.dataDir, ec);
  if (ec) {
    return Status::ioError("rocksdb storage: cannot create data_dir '" + opts_.dataDir +
                           "': " + ec.message());
  }
  if (!std::filesystem::is_directory(opts_.dataDir, ec)) {
    return Status::ioError("rocksdb storage: data_dir '" + opts_.dataDir + "' is not a directory");
  }
  dataDir_ = opts_.dataDir;

  OpenOptions o = openOptionsFor(opts_, ctx_.logger);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o.db, dataDir_, o.cfs, &handles, &raw);
  if (!s.ok()) return fromRocks(s, "rocksdb storage: cannot open '" + dataDir_ + "'");
  db_.reset(raw);
  for (size_t i = 0; i < kCfCount; ++i) handles_[i] = handles[i];

  writeOptions_ = o.write;
  sawWriteError_ = false;
  needsReopen_ = false;
  ctx_.logger->log(plugin::LogLevel::kInfo,
                   "rocksdb storage: opened '" + dataDir_ + "' (" + o.summary + ")");
  return Status::ok();
}

Status Database::close() {
  std::unique_lock lock(mu_);
  return closeDb();
}

Status Database::closeDb() {
  if (!db_) return Status::ok();
  Status result;
  // A clean shutdown should also survive a machine crash right after it, and leave no memtable
  // to replay from the WAL at the next open: flush every column family (which syncs), then the
  // WAL for whatever a failed flush left there.
  if (!sawWriteError_) {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> live;
    for (auto* h : handles_) {
      if (h) live.push_back(h);
    }
    rocksdb::Status s = db_->Flush(flush, live);
    if (!s.ok()) result = fromRocks(s, "rocksdb storage: flush");
    s = db_->SyncWAL();
    if (!s.ok() && !s.IsNotSupported() && result.isOk()) {
      result = fromRocks(s, "rocksdb storage: sync WAL");
    }
  }
  for (auto*& h : handles_) {
    if (h) {
      rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
      if (!s.ok() && result.isOk()) result = fromRocks(s, "rocksdb storage: close CF");
      h = nullptr;
    }
  }
  rocksdb::Status s = db_->Close();
  if (!s.ok() && result.isOk()) result = fromRocks(s, "rocksdb storage: close");
  db_.reset();
  if (onClose_) onClose_();
  return result;
}

Status Database::enter(Lock* lock, bool forWrite) {
  if (forWrite && needsReopen_.load()) reopenIfNeeded();
  *lock = Lock(mu_);
  if (db_) return Status::ok();
  if (needsReopen_.load()) {
    return Status::ioError("rocksdb storage: unavailable after a fatal write error: " +
                           reopenError_);
  }
  return Status::failedPrecondition("rocksdb storage: not open");
}

void Database::reopenIfNeeded() {
  std::unique_lock lock(mu_);
  if (!needsReopen_.load()) return;  // another writer did it
  // A failing disk is retried at most once a second, not by every write.
  auto now = std::chrono::steady_clock::now();
  if (!db_ && now - lastReopenFailure_ < std::chrono::seconds(1)) return;
  ctx_.logger->log(plugin::LogLevel::kWarn,
                   "rocksdb storage: reopening '" + dataDir_ + "' after a fatal write error");
  (void)closeDb();  // the DB is read-only after the error; its status adds nothing
  Status s = openDb();
  if (!s.isOk()) {
    needsReopen_ = true;
    lastReopenFailure_ = now;
    reopenError_ = s.toString();
    ctx_.logger->log(plugin::LogLevel::kError, "rocksdb storage: reopen failed: " + reopenError_);
  }
}

void Database::recordWriteOutcome(const rocksdb::Status& s) {
  if (s.ok()) {
    if (!healthy_.load(std::memory_order_relaxed)) {
      std::lock_guard lock(detailMu_);
      healthy_.store(true);
      detail_.clear();
    }
    return;
  }
  {
    std::lock_guard lock(detailMu_);
    healthy_.store(false);
    detail_ = "last write failed: " + s.ToString();
  }
  sawWriteError_ = true;
  // A background error makes the DB read-only. Resume() clears the recoverable ones (ENOSPC);
  // any other (e.g. EIO on the WAL) needs a reopen, which the next write does.
  rocksdb::Status resumed = db_->Resume();
  if (!resumed.ok()) {
    needsReopen_ = true;
    ctx_.logger->log(plugin::LogLevel::kError, "rocksdb storage: write failed (" + s.ToString() +
                                                   "), cannot resume: " + resumed.ToString());
  }
}

Status Database::write(rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db_->Write(writeOptions_, batch);
  recordWriteOutcome(s);
  return fromRocks(s, "rocksdb storage: write");
}

Status Database::deleteRange(Cf cf, const std::string& begin, const std::string& end) {
  rocksdb::Status s = db_->DeleteRange(writeOptions_, handles_[cf], begin, end);
  recordWriteOutcome(s);
  return fromRocks(s, "rocksdb storage: delete range");
}

Result<uint64_t> Database::usedBytes() {
  Lock lock;
  ZC_RETURN_IF_ERROR(enter(&lock, false));
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* cf : handles_) {
    for (const std::string& property :
         {rocksdb::DB::Properties::kTotalSstFilesSize, rocksdb::DB::Properties::kCurSizeAllMemTables}) {
      uint64_t value = 0;
      if (!db_->GetIntProperty(cf, property, &value)) {
        return Status::ioError("rocksdb storage: property " + property + " unavailable");
      }
      total += value;
    }
  }
  return total;
}

plugin::StorageStats Database::stats() {
  plugin::StorageStats out;
  if (!dataDir_.empty()) {
    // A directory walk counts everything the store holds on disk: SST, WAL, MANIFEST.
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dataDir_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code sizeEc;
      if (it->is_regular_file(sizeEc)) {
        auto size = it->file_size(sizeEc);
        if (!sizeEc) out.bytesOnDisk += size;
      }
    }
  }
  std::lock_guard lock(detailMu_);
  out.healthy = healthy_.load();
  out.detail = detail_;
  return out;
}

}  // namespace zc::storage
