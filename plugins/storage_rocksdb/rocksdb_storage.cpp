#include "rocksdb_storage.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>

#include "encoding.h"

namespace zc::storage {

namespace enc = encoding;

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// The CF names on disk, in Cf order ("default" is required by RocksDB and stays empty).
constexpr std::array<const char*, 6> kCfNames = {"deployments", "logs", "system",
                                                 "metrics",     "meta", "default"};

// Routes RocksDB's info log to the host logger. RocksDB's INFO is chatty (every flush and
// compaction), so it lands at our debug level.
class ForwardingLogger final : public rocksdb::Logger {
 public:
  explicit ForwardingLogger(plugin::Logger* target)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), target_(target) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    va_list copy;
    va_copy(copy, ap);
    int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string_view msg(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
    plugin::LogLevel ours = plugin::LogLevel::kDebug;
    switch (level) {
      case rocksdb::InfoLogLevel::WARN_LEVEL:
        ours = plugin::LogLevel::kWarn;
        break;
      case rocksdb::InfoLogLevel::ERROR_LEVEL:
      case rocksdb::InfoLogLevel::FATAL_LEVEL:
        ours = plugin::LogLevel::kError;
        break;
      default:
        break;
    }
    std::string line = "rocksdb: ";
    line.append(msg);
    target_->log(ours, line);
  }

 private:
  plugin::Logger* target_;
};

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

Status fromException(std::string_view op, const std::exception& e) {
  return Status::internal("rocksdb storage: " + std::string(op) + ": " + e.what());
}

// Runs `f`, turning an escaping exception (bad_alloc) into Internal: nothing may cross the
// plugin boundary as an exception.
template <typename F>
auto guarded(std::string_view op, F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return fromException(op, e);
  }
}

const char* compressionName(rocksdb::CompressionType t) {
  switch (t) {
    case rocksdb::kLZ4Compression:
      return "lz4";
    case rocksdb::kZSTD:
      return "zstd";
    case rocksdb::kSnappyCompression:
      return "snappy";
    case rocksdb::kNoCompression:
      return "none";
    default:
      return "other";
  }
}

// Releases a snapshot on scope exit.
class SnapshotGuard {
 public:
  explicit SnapshotGuard(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
  ~SnapshotGuard() { db_->ReleaseSnapshot(snap_); }
  SnapshotGuard(const SnapshotGuard&) = delete;
  SnapshotGuard& operator=(const SnapshotGuard&) = delete;
  const rocksdb::Snapshot* get() const { return snap_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
};

}  // namespace

RocksDbStorage::RocksDbStorage() {
  plugin::RetentionPolicy defaults;
  logsTtl_.store(defaults.logsTtl);
  systemTtl_.store(defaults.systemTtl);
  metricsTtl_.store(defaults.metricsTtl);
}

RocksDbStorage::~RocksDbStorage() {
  if (db_) (void)close();
}

std::vector<plugin::OptionSpec> RocksDbStorage::optionSpecs() const noexcept {
  using plugin::OptionType;
  return {
      {"data_dir", OptionType::kString, "", "database folder, created when missing", 0, 0, true},
      {"sync_writes", OptionType::kBool, "false",
       "fsync the WAL on every write (survives power loss, not only a process crash)"},
      {"block_cache_mb", OptionType::kInt, "8",
       "LRU block cache shared by every column family, MiB", 1, 1024},
      {"write_buffer_mb", OptionType::kInt, "16", "memtable size per column family, MiB", 1, 256},
      {"compression", OptionType::kString, "lz4", "lz4, zstd, snappy or none"},
  };
}

Status RocksDbStorage::configure(const plugin::PluginContext& ctx) noexcept {
  return guarded("configure", [&]() -> Status {
    logger_ = ctx.logger;
    clock_ = ctx.clock;
    ZC_ASSIGN_OR_RETURN(plugin::OptionValues v, plugin::OptionValues::parse(optionSpecs(), ctx.options));
    const std::string& compression = v.string("compression");
    if (compression != "lz4" && compression != "zstd" && compression != "snappy" &&
        compression != "none") {
      return Status::invalidArgument("compression: '" + compression +
                                     "' is not lz4, zstd, snappy or none");
    }
    opts_.dataDir = v.string("data_dir");
    opts_.syncWrites = v.boolean("sync_writes");
    opts_.blockCacheBytes = static_cast<uint64_t>(v.integer("block_cache_mb")) * kMiB;
    opts_.writeBufferBytes = static_cast<uint64_t>(v.integer("write_buffer_mb")) * kMiB;
    opts_.compression = compression;
    return Status::ok();
  });
}

Status RocksDbStorage::open() noexcept {
  return guarded("open", [&] { return openImpl(); });
}

Status RocksDbStorage::openImpl() {
  if (db_) return Status::failedPrecondition("rocksdb storage: already open");
  if (logger_ == nullptr) return Status::failedPrecondition("rocksdb storage: not configured");
  return openDb();
}

Status RocksDbStorage::openDb() {
  const Options& opts = opts_;

  std::error_code ec;
  std::filesystem::create_directories(opts.dataDir, ec);
  if (ec) {
    return Status::ioError("rocksdb storage: cannot create data_dir '" + opts.dataDir +
                           "': " + ec.message());
  }
  if (!std::filesystem::is_directory(opts.dataDir, ec)) {
    return Status::ioError("rocksdb storage: data_dir '" + opts.dataDir + "' is not a directory");
  }
  dataDir_ = opts.dataDir;

  // Compression: the requested one when this librocksdb has it, else the best available.
  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return t == rocksdb::kNoCompression ||
           std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  rocksdb::CompressionType wanted = rocksdb::kLZ4Compression;
  if (opts.compression == "zstd") wanted = rocksdb::kZSTD;
  if (opts.compression == "snappy") wanted = rocksdb::kSnappyCompression;
  if (opts.compression == "none") wanted = rocksdb::kNoCompression;
  rocksdb::CompressionType compression = wanted;
  if (!has(wanted)) {
    compression = rocksdb::kNoCompression;
    for (auto t : {rocksdb::kLZ4Compression, rocksdb::kZSTD, rocksdb::kSnappyCompression}) {
      if (has(t)) {
        compression = t;
        break;
      }
    }
    logger_->log(plugin::LogLevel::kWarn,
                 std::string("rocksdb storage: compression ") + compressionName(wanted) +
                     " is not supported by this librocksdb; using " + compressionName(compression));
  }
  // Cold data (the last level) gets the denser ZSTD when compression is on at all.
  rocksdb::CompressionType bottommost =
      compression != rocksdb::kNoCompression && has(rocksdb::kZSTD) ? rocksdb::kZSTD : compression;

  rocksdb::DBOptions dbo;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.info_log = std::make_shared<ForwardingLogger>(logger_);
  dbo.max_background_jobs = 2;
  // Memory budget: all memtables together, and the WAL (the meta CF is tiny and written by every
  // batch: without a WAL cap it would pin old WAL files forever).
  dbo.db_write_buffer_size = 2 * opts.writeBufferBytes;
  dbo.max_total_wal_size = 4 * opts.writeBufferBytes;
  dbo.stats_dump_period_sec = 0;
  dbo.stats_persist_period_sec = 0;
  dbo.keep_log_file_num = 1;

  auto cache = rocksdb::NewLRUCache(opts.blockCacheBytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.block_size = 16 * 1024;
  std::shared_ptr<rocksdb::TableFactory> tableFactory(rocksdb::NewBlockBasedTableFactory(table));

  auto cfOptions = [&](uint64_t writeBuffer) {
    rocksdb::ColumnFamilyOptions o;
    o.table_factory = tableFactory;
    o.compression = compression;
    o.bottommost_compression = bottommost;
    o.write_buffer_size = writeBuffer;
    o.max_write_buffer_number = 2;
    o.min_write_buffer_number_to_merge = 1;
    o.level_compaction_dynamic_level_bytes = true;
    o.target_file_size_base = std::max<uint64_t>(opts.writeBufferBytes, 4 * kMiB);
    o.max_bytes_for_level_base = 4 * o.target_file_size_base;
    return o;
  };
  uint64_t small = std::min<uint64_t>(opts.writeBufferBytes, 4 * kMiB);
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kCfCount; ++i) {
    bool big = i == kLogs || i == kSystem;
    cfs.emplace_back(kCfNames[i], cfOptions(big ? opts.writeBufferBytes : small));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(dbo, dataDir_, cfs, &handles, &raw);
  if (!s.ok()) return fromRocks(s, "rocksdb storage: cannot open '" + dataDir_ + "'");
  db_.reset(raw);
  for (size_t i = 0; i < kCfCount; ++i) handles_[i] = handles[i];

  writeOptions_ = rocksdb::WriteOptions();
  writeOptions_.sync = opts.syncWrites;
  sawWriteError_ = false;
  needsReopen_ = false;
  logger_->log(plugin::LogLevel::kInfo, "rocksdb storage: opened '" + dataDir_ + "' (compression " +
                                            compressionName(compression) + ", sync_writes " +
                                            (opts.syncWrites ? "true" : "false") + ")");
  return Status::ok();
}

Status RocksDbStorage::close() noexcept {
  return guarded("close", [&]() -> Status {
    std::unique_lock lock(dbMu_);
    return closeDb();
  });
}

Status RocksDbStorage::closeDb() {
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
    if (!s.ok() && !s.IsNotSupported() && result.isOk()) result = fromRocks(s, "rocksdb storage: sync WAL");
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
  for (auto& stripe : stripes_) {
    std::lock_guard stripeLock(stripe.mu);
    stripe.next.clear();
  }
  return result;
}

Status RocksDbStorage::enter(DbLock* lock, bool forWrite) {
  if (forWrite && needsReopen_.load()) reopenIfNeeded();
  *lock = DbLock(dbMu_);
  if (db_) return Status::ok();
  if (needsReopen_.load()) {
    return Status::ioError("rocksdb storage: unavailable after a fatal write error: " +
                           reopenError_);
  }
  return Status::failedPrecondition("rocksdb storage: not open");
}

void RocksDbStorage::reopenIfNeeded() {
  std::unique_lock lock(dbMu_);
  if (!needsReopen_.load()) return;  // another writer did it
  // A failing disk is retried at most once a second, not by every write.
  auto now = std::chrono::steady_clock::now();
  if (!db_ && now - lastReopenFailure_ < std::chrono::seconds(1)) return;
  logger_->log(plugin::LogLevel::kWarn,
               "rocksdb storage: reopening '" + dataDir_ + "' after a fatal write error");
  (void)closeDb();  // the DB is read-only after the error; its status adds nothing
  Status s = openDb();
  if (!s.isOk()) {
    needsReopen_ = true;
    lastReopenFailure_ = now;
    reopenError_ = s.toString();
    logger_->log(plugin::LogLevel::kError, "rocksdb storage: reopen failed: " + reopenError_);
  }
}

void RocksDbStorage::setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept {
  logsTtl_.store(std::max<int64_t>(policy.logsTtl, 0));
  systemTtl_.store(std::max<int64_t>(policy.systemTtl, 0));
  metricsTtl_.store(std::max<int64_t>(policy.metricsTtl, 0));
}

RocksDbStorage::Stripe& RocksDbStorage::stripeFor(std::string_view id) noexcept {
  return stripes_[std::hash<std::string_view>{}(id) % kStripeCount];
}

bool RocksDbStorage::expired(TimeNs ts, int64_t ttl, TimeNs now) const noexcept {
  return plugin::isExpired(ts, ttl, now);
}

void RocksDbStorage::recordWriteOutcome(const rocksdb::Status& s) {
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
    logger_->log(plugin::LogLevel::kError, "rocksdb storage: write failed (" + s.ToString() +
                                               "), cannot resume: " + resumed.ToString());
  }
}

Status RocksDbStorage::write(rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db_->Write(writeOptions_, batch);
  recordWriteOutcome(s);
  return fromRocks(s, "rocksdb storage: write");
}

Status RocksDbStorage::deleteRange(Cf cf, const std::string& begin, const std::string& end) {
  rocksdb::Status s = db_->DeleteRange(writeOptions_, handles_[cf], begin, end);
  recordWriteOutcome(s);
  return fromRocks(s, "rocksdb storage: delete range");
}

// --- deployments

Status RocksDbStorage::putDeployment(const Deployment& d) noexcept {
  return guarded("putDeployment", [&]() -> Status {
    ZC_RETURN_IF_ERROR(validateDeploymentId(d.id));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, true));
    rocksdb::WriteBatch batch;
    batch.Put(handles_[kDeployments], d.id, enc::encodeDeployment(d));
    return write(&batch);
  });
}

Result<Deployment> RocksDbStorage::getDeployment(std::string_view id) noexcept {
  return guarded("getDeployment", [&]() -> Result<Deployment> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(id));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, false));
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), handles_[kDeployments], rocksdb::Slice(id), &value);
    if (s.IsNotFound()) return Status::notFound("deployment '" + std::string(id) + "' is unknown");
    ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: get deployment"));
    auto d = enc::decodeDeployment(value);
    if (!d.isOk()) return d.status().withContext("deployment '" + std::string(id) + "'");
    return d;
  });
}

Result<std::vector<Deployment>> RocksDbStorage::listDeployments() noexcept {
  return guarded("listDeployments", [&]() -> Result<std::vector<Deployment>> {
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, false));
    std::vector<Deployment> out;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[kDeployments]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto d = enc::decodeDeployment(it->value().ToStringView());
      if (!d.isOk()) {
        return d.status().withContext("deployment '" + it->key().ToString() + "'");
      }
      out.push_back(std::move(d).value());
    }
    ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: list deployments"));
    return out;
  });
}

Status RocksDbStorage::deleteDeployment(std::string_view id) noexcept {
  return guarded("deleteDeployment", [&] { return deleteDeploymentImpl(id); });
}

Status RocksDbStorage::deleteDeploymentImpl(std::string_view id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  DbLock dbLock;
  ZC_RETURN_IF_ERROR(enter(&dbLock, true));
  std::string begin = enc::prefixBegin(id);
  std::string end = enc::prefixEnd(id);
  rocksdb::WriteBatch batch;
  batch.Delete(handles_[kDeployments], rocksdb::Slice(id));
  for (Cf cf : {kLogs, kSystem, kMetrics, kMeta}) batch.DeleteRange(handles_[cf], begin, end);
  {
    // Under the stripe lock so that no append of this deployment interleaves with the delete
    // and the cached next lineNo goes with the data.
    Stripe& stripe = stripeFor(id);
    std::lock_guard lock(stripe.mu);
    Status s = write(&batch);
    if (auto it = stripe.next.find(id); it != stripe.next.end()) stripe.next.erase(it);
    ZC_RETURN_IF_ERROR(s);
  }
  std::lock_guard lock(pendingMu_);
  for (Cf cf : {kLogs, kSystem, kMetrics}) pending_.push_back({cf, begin, end});
  return Status::ok();
}

// --- logs

Result<uint64_t> RocksDbStorage::readNextLineNo(std::string_view id,
                                                const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_->Get(ro, handles_[kMeta], enc::nextLineNoKey(id), &value);
  if (s.IsNotFound()) return uint64_t{1};
  ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: read next lineNo"));
  if (value.size() != 8) {
    return Status::corruption("rocksdb storage: next lineNo of '" + std::string(id) +
                              "' is malformed");
  }
  return enc::getBe64(value.data());
}

Result<uint64_t> RocksDbStorage::nextLineNoLocked(Stripe& stripe, std::string_view id) {
  if (auto it = stripe.next.find(id); it != stripe.next.end()) return it->second;
  ZC_ASSIGN_OR_RETURN(uint64_t next, readNextLineNo(id, nullptr));
  stripe.next.emplace(std::string(id), next);
  return next;
}

Status RocksDbStorage::appendLogs(const plugin::LogBatch& batch) noexcept {
  return guarded("appendLogs", [&] { return appendLogsImpl(batch); });
}

Status RocksDbStorage::appendLogsImpl(const plugin::LogBatch& batch) {
  const std::string& id = batch.deploymentId;
  ZC_RETURN_IF_ERROR(plugin::validateLogBatchShape(batch));
  DbLock dbLock;
  ZC_RETURN_IF_ERROR(enter(&dbLock, true));
  const auto& lines = batch.lines;
  if (lines.empty() && !batch.cursor) return Status::ok();

  // Everything that does not depend on the stored state is checked and encoded before taking the
  // deployment's lock: the lock then only covers the lineNo check and the write.
  size_t bytes =
      64 +
      (batch.cursor ? id.size() + batch.cursor->key.size() + batch.cursor->value.size() + 16 : 0);
  for (const LogLine& line : lines) {
    // Record overhead: tag, CF id, two varint lengths.
    bytes += id.size() + enc::kLineKeySuffix + enc::kLineHeaderSize + line.text.size() + 16;
  }
  if (!lines.empty() && lines[0].lineNo == 0) {
    return Status::failedPrecondition("appendLogs: lineNo 0 is never valid");
  }

  rocksdb::WriteBatch wb(bytes);
  std::string key;
  key.reserve(id.size() + enc::kLineKeySuffix);
  key.append(id);
  key.push_back('\0');
  key.resize(id.size() + enc::kLineKeySuffix);
  char* lineNoBytes = key.data() + id.size() + 1;
  char header[enc::kLineHeaderSize];
  for (const LogLine& line : lines) {
    enc::putBe64(lineNoBytes, line.lineNo);
    enc::encodeLineHeader(header, line.stream, line.truncated, line.ts);
    rocksdb::Slice valueParts[2] = {rocksdb::Slice(header, sizeof header),
                                    rocksdb::Slice(line.text)};
    rocksdb::Slice keyPart(key);
    rocksdb::ColumnFamilyHandle* cf =
        line.stream == LogStream::kSystem ? handles_[kSystem] : handles_[kLogs];
    rocksdb::Status s =
        wb.Put(cf, rocksdb::SliceParts(&keyPart, 1), rocksdb::SliceParts(valueParts, 2));
    if (!s.ok()) return fromRocks(s, "rocksdb storage: encode batch");
  }
  uint64_t newNext = lines.empty() ? 0 : lines.back().lineNo + 1;
  if (!lines.empty()) {
    char nextBytes[8];
    enc::putBe64(nextBytes, newNext);
    wb.Put(handles_[kMeta], enc::nextLineNoKey(id), rocksdb::Slice(nextBytes, 8));
  }
  if (batch.cursor) {
    wb.Put(handles_[kMeta], enc::cursorKey(id, batch.cursor->key), batch.cursor->value);
  }

  Stripe& stripe = stripeFor(id);
  std::lock_guard lock(stripe.mu);
  if (!lines.empty()) {
    ZC_ASSIGN_OR_RETURN(uint64_t next, nextLineNoLocked(stripe, id));
    if (lines[0].lineNo != next) {
      return Status::failedPrecondition("appendLogs: batch for '" + id + "' starts at lineNo " +
                                        std::to_string(lines[0].lineNo) + ", expected " +
                                        std::to_string(next));
    }
  }
  Status s = write(&wb);
  if (!s.isOk()) {
    // The DB is the truth after a failed write; read it again next time.
    if (auto it = stripe.next.find(id); it != stripe.next.end()) stripe.next.erase(it);
    return s;
  }
  if (!lines.empty()) {
    auto it = stripe.next.find(id);
    if (it != stripe.next.end()) {
      it->second = newNext;
    } else {
      stripe.next.emplace(id, newNext);
    }
  }
  return Status::ok();
}

Result<uint64_t> RocksDbStorage::nextLineNo(std::string_view deploymentId) noexcept {
  return guarded("nextLineNo", [&]() -> Result<uint64_t> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, false));
    Stripe& stripe = stripeFor(deploymentId);
    std::lock_guard lock(stripe.mu);
    return nextLineNoLocked(stripe, deploymentId);
  });
}

Result<std::string> RocksDbStorage::getCursor(std::string_view deploymentId,
                                              std::string_view key) noexcept {
  return guarded("getCursor", [&]() -> Result<std::string> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, false));
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[kMeta],
                                 enc::cursorKey(deploymentId, key), &value);
    if (s.IsNotFound()) {
      return Status::notFound("no cursor '" + std::string(key) + "' for deployment '" +
                              std::string(deploymentId) + "'");
    }
    ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: get cursor"));
    return value;
  });
}

Result<plugin::LogPage> RocksDbStorage::readLogs(std::string_view deploymentId, uint64_t since,
                                                 size_t limit) noexcept {
  return guarded("readLogs", [&] { return readLogsImpl(deploymentId, since, limit); });
}

Result<plugin::LogPage> RocksDbStorage::readLogsImpl(std::string_view id, uint64_t since,
                                                     size_t limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  DbLock dbLock;
  ZC_RETURN_IF_ERROR(enter(&dbLock, false));
  const TimeNs now = clock_->now();
  const int64_t ttls[2] = {logsTtl_.load(), systemTtl_.load()};

  // One snapshot for both CFs and the next lineNo, so the page is one consistent view.
  SnapshotGuard snap(db_.get());
  plugin::LogPage page;
  ZC_ASSIGN_OR_RETURN(page.nextLineNo, readNextLineNo(id, snap.get()));

  const std::string upper = enc::prefixEnd(id);
  rocksdb::Slice upperSlice(upper);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.iterate_upper_bound = &upperSlice;
  std::unique_ptr<rocksdb::Iterator> its[2] = {
      std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, handles_[kLogs])),
      std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(ro, handles_[kSystem]))};

  // Moves `it` past expired lines; false on a malformed value.
  auto skipExpired = [&](rocksdb::Iterator* it, int64_t ttl) {
    for (; it->Valid(); it->Next()) {
      TimeNs ts;
      if (!enc::decodeLineTs(it->value().ToStringView(), &ts)) return false;
      if (!expired(ts, ttl, now)) break;
    }
    return true;
  };
  auto lineNoOf = [&](rocksdb::Iterator* it, uint64_t* lineNo) {
    return enc::decodeKeyNumber(it->key().ToStringView(), id.size(), lineNo);
  };
  auto corrupt = [&] {
    return Status::corruption("rocksdb storage: malformed log line of '" + std::string(id) + "'");
  };

  // oldestLineNo: the first unexpired line of either class.
  page.oldestLineNo = page.nextLineNo;
  const std::string begin = enc::prefixBegin(id);
  for (int c = 0; c < 2; ++c) {
    its[c]->Seek(begin);
    if (!skipExpired(its[c].get(), ttls[c])) return corrupt();
    uint64_t lineNo;
    if (its[c]->Valid()) {
      if (!lineNoOf(its[c].get(), &lineNo)) return corrupt();
      page.oldestLineNo = std::min(page.oldestLineNo, lineNo);
    }
    ZC_RETURN_IF_ERROR(fromRocks(its[c]->status(), "rocksdb storage: read logs"));
  }

  if (limit > 0 && since < std::numeric_limits<uint64_t>::max()) {
    const std::string start = enc::lineKey(id, since + 1);
    for (auto& it : its) it->Seek(start);
    page.lines.reserve(std::min<size_t>(limit, 4096));
    while (page.lines.size() < limit) {
      if (!skipExpired(its[0].get(), ttls[0]) || !skipExpired(its[1].get(), ttls[1])) {
        return corrupt();
      }
      rocksdb::Iterator* pick = nullptr;
      if (its[0]->Valid() && its[1]->Valid()) {
        pick = its[0]->key().compare(its[1]->key()) < 0 ? its[0].get() : its[1].get();
      } else if (its[0]->Valid()) {
        pick = its[0].get();
      } else if (its[1]->Valid()) {
        pick = its[1].get();
      } else {
        break;
      }
      LogLine& line = page.lines.emplace_back();
      std::string_view text;
      if (!lineNoOf(pick, &line.lineNo) ||
          !enc::decodeLineValue(pick->value().ToStringView(), &line.stream, &line.truncated,
                                &line.ts, &text)) {
        return corrupt();
      }
      line.deploymentId.assign(id);
      line.text.assign(text);
      pick->Next();
    }
    for (auto& it : its) ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: read logs"));
  }
  return page;
}

// --- metrics

Status RocksDbStorage::appendMetrics(const std::vector<MetricSample>& samples) noexcept {
  return guarded("appendMetrics", [&]() -> Status {
    for (const auto& s : samples) ZC_RETURN_IF_ERROR(validateDeploymentId(s.deploymentId));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, true));
    if (samples.empty()) return Status::ok();
    rocksdb::WriteBatch wb;
    char value[enc::kMetricValueSize];
    for (const auto& s : samples) {
      enc::encodeMetricValue(s, value);
      wb.Put(handles_[kMetrics], enc::metricKey(s.deploymentId, s.sampledAt),
             rocksdb::Slice(value, sizeof value));
    }
    return write(&wb);
  });
}

Result<std::vector<MetricSample>> RocksDbStorage::readMetrics(std::string_view deploymentId,
                                                              TimeNs from, TimeNs to) noexcept {
  return guarded("readMetrics", [&]() -> Result<std::vector<MetricSample>> {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    DbLock dbLock;
    ZC_RETURN_IF_ERROR(enter(&dbLock, false));
    std::vector<MetricSample> out;
    int64_t ttl = metricsTtl_.load();
    if (ttl > 0) from = std::max(from, plugin::retentionCutoff(clock_->now(), ttl));
    if (from > to) return out;
    const std::string upper = enc::prefixEnd(deploymentId);
    rocksdb::Slice upperSlice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upperSlice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kMetrics]));
    for (it->Seek(enc::metricKey(deploymentId, from)); it->Valid(); it->Next()) {
      uint64_t ordered;
      MetricSample s;
      if (!enc::decodeKeyNumber(it->key().ToStringView(), deploymentId.size(), &ordered) ||
          !enc::decodeMetricValue(it->value().ToStringView(), &s)) {
        return Status::corruption("rocksdb storage: malformed metric sample of '" +
                                  std::string(deploymentId) + "'");
      }
      s.sampledAt = enc::orderedToTime(ordered);
      if (s.sampledAt > to) break;
      s.deploymentId.assign(deploymentId);
      out.push_back(std::move(s));
    }
    ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: read metrics"));
    return out;
  });
}

// --- retention

Status RocksDbStorage::retainLines(Cf cf, TimeNs cutoff, uint64_t* deleted,
                                   std::vector<PendingCompaction>* ranges) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[cf]));
  it->SeekToFirst();
  while (it->Valid()) {
    std::string_view idView, rest;
    if (!enc::splitPrefixedKey(it->key().ToStringView(), &idView, &rest)) {
      return Status::corruption("rocksdb storage: malformed key in CF " +
                                std::string(kCfNames[cf]));
    }
    const std::string id(idView);
    // Lines are in lineNo order and their ts almost monotonic: the expired head of the range
    // ends at the first line that is still live. A later line with an older ts stays until the
    // head reaches it (reads hide it meanwhile).
    uint64_t count = 0;
    uint64_t lastExpired = 0;
    for (; it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (key.size() <= id.size() || key.compare(0, id.size(), id) != 0 || key[id.size()] != '\0')
        break;
      TimeNs ts;
      uint64_t lineNo;
      if (!enc::decodeKeyNumber(key, id.size(), &lineNo) ||
          !enc::decodeLineTs(it->value().ToStringView(), &ts)) {
        return Status::corruption("rocksdb storage: malformed log line of '" + id + "'");
      }
      if (ts >= cutoff) break;
      ++count;
      lastExpired = lineNo;
    }
    ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: retention scan"));
    if (count > 0) {
      // End at the last expired line, never at the end of the prefix: lines appended since the
      // iterator was created must survive.
      std::string begin = enc::prefixBegin(id);
      std::string end = enc::lineKey(id, lastExpired + 1);
      ZC_RETURN_IF_ERROR(deleteRange(cf, begin, end));
      *deleted += count;
      ranges->push_back({cf, std::move(begin), std::move(end)});
    }
    it->Seek(enc::prefixEnd(id));
  }
  return fromRocks(it->status(), "rocksdb storage: retention scan");
}

Status RocksDbStorage::retainMetrics(TimeNs cutoff, uint64_t* deleted,
                                     std::vector<PendingCompaction>* ranges) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handles_[kMetrics]));
  it->SeekToFirst();
  while (it->Valid()) {
    std::string_view idView, rest;
    if (!enc::splitPrefixedKey(it->key().ToStringView(), &idView, &rest)) {
      return Status::corruption("rocksdb storage: malformed key in CF metrics");
    }
    const std::string id(idView);
    const std::string end = enc::metricKey(id, cutoff);
    uint64_t count = 0;
    for (; it->Valid() && it->key().compare(end) < 0; it->Next()) ++count;
    ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: retention scan"));
    if (count > 0) {
      std::string begin = enc::prefixBegin(id);
      ZC_RETURN_IF_ERROR(deleteRange(kMetrics, begin, end));
      *deleted += count;
      ranges->push_back({kMetrics, std::move(begin), end});
    }
    it->Seek(enc::prefixEnd(id));
  }
  return fromRocks(it->status(), "rocksdb storage: retention scan");
}

Result<plugin::RetentionReport> RocksDbStorage::applyRetention() noexcept {
  return guarded("applyRetention", [&] { return applyRetentionImpl(); });
}

Result<plugin::RetentionReport> RocksDbStorage::applyRetentionImpl() {
  DbLock dbLock;
  ZC_RETURN_IF_ERROR(enter(&dbLock, true));
  std::lock_guard retentionLock(retentionMu_);
  const TimeNs now = clock_->now();
  plugin::RetentionReport report;
  std::vector<PendingCompaction> ranges;
  if (int64_t ttl = logsTtl_.load(); ttl > 0) {
    ZC_RETURN_IF_ERROR(retainLines(kLogs, plugin::retentionCutoff(now, ttl), &report.logLinesDeleted, &ranges));
  }
  if (int64_t ttl = systemTtl_.load(); ttl > 0) {
    ZC_RETURN_IF_ERROR(
        retainLines(kSystem, plugin::retentionCutoff(now, ttl), &report.systemLinesDeleted, &ranges));
  }
  if (int64_t ttl = metricsTtl_.load(); ttl > 0) {
    ZC_RETURN_IF_ERROR(retainMetrics(plugin::retentionCutoff(now, ttl), &report.metricSamplesDeleted, &ranges));
  }
  {
    std::lock_guard lock(pendingMu_);
    for (auto& p : pending_) ranges.push_back(std::move(p));
    pending_.clear();
  }
  if (ranges.empty()) return report;

  // Reclaim: compact each deleted range down through the last level so the range tombstones
  // drop the data, then flush every CF so that no memtable pins the old WAL files.
  rocksdb::CompactRangeOptions cro;
  cro.exclusive_manual_compaction = false;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (const auto& r : ranges) {
    rocksdb::Slice begin(r.begin), end(r.end);
    rocksdb::Status s = db_->CompactRange(cro, handles_[r.cf], &begin, &end);
    if (!s.ok()) {
      logger_->log(plugin::LogLevel::kWarn,
                   "rocksdb storage: compaction after retention failed: " + s.ToString());
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin(), handles_.end());
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), all);
  if (!s.ok()) {
    logger_->log(plugin::LogLevel::kWarn,
                 "rocksdb storage: flush after retention failed: " + s.ToString());
  }
  return report;
}

plugin::StorageStats RocksDbStorage::stats() noexcept {
  plugin::StorageStats out;
  try {
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
  } catch (const std::exception& e) {
    out.healthy = false;
    out.detail = std::string("stats failed: ") + e.what();
  }
  return out;
}

}  // namespace zc::storage
