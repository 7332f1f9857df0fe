#include "rocksdb_retention.h"

#include <rocksdb/options.h>
#include <rocksdb/slice.h>

#include <memory>

#include "encoding.h"

namespace zc::storage {

namespace enc = encoding;

void Retention::compactLater(Cf cf, std::string begin, std::string end) {
  std::lock_guard lock(pendingMu_);
  pending_.push_back({cf, std::move(begin), std::move(end)});
}

Status Retention::retainLines(Cf cf, TimeNs cutoff, uint64_t* deleted,
                              std::vector<PendingCompaction>* ranges) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(cf)));
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
      ZC_RETURN_IF_ERROR(db_.deleteRange(cf, begin, end));
      *deleted += count;
      ranges->push_back({cf, std::move(begin), std::move(end)});
    }
    it->Seek(enc::prefixEnd(id));
  }
  return fromRocks(it->status(), "rocksdb storage: retention scan");
}

Status Retention::retainMetrics(TimeNs cutoff, uint64_t* deleted,
                                std::vector<PendingCompaction>* ranges) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kMetrics)));
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
      ZC_RETURN_IF_ERROR(db_.deleteRange(kMetrics, begin, end));
      *deleted += count;
      ranges->push_back({kMetrics, std::move(begin), end});
    }
    it->Seek(enc::prefixEnd(id));
  }
  return fromRocks(it->status(), "rocksdb storage: retention scan");
}

Result<plugin::RetentionReport> Retention::apply() {
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
  std::lock_guard runLock(runMu_);
  const TimeNs now = ctx_.clock->now();
  plugin::RetentionReport report;
  std::vector<PendingCompaction> ranges;
  if (int64_t ttl = ctx_.ttls.logsTtl(); ttl > 0) {
    ZC_RETURN_IF_ERROR(retainLines(kLogs, plugin::retentionCutoff(now, ttl),
                                   &report.logLinesDeleted, &ranges));
  }
  if (int64_t ttl = ctx_.ttls.systemTtl(); ttl > 0) {
    ZC_RETURN_IF_ERROR(retainLines(kSystem, plugin::retentionCutoff(now, ttl),
                                   &report.systemLinesDeleted, &ranges));
  }
  if (int64_t ttl = ctx_.ttls.metricsTtl(); ttl > 0) {
    ZC_RETURN_IF_ERROR(retainMetrics(plugin::retentionCutoff(now, ttl),
                                     &report.metricSamplesDeleted, &ranges));
  }
  {
    std::lock_guard lock(pendingMu_);
    for (auto& p : pending_) ranges.push_back(std::move(p));
    pending_.clear();
  }
  if (!ranges.empty()) reclaim(ranges);
  return report;
}

Status Retention::dropLogLinesThrough(std::string_view id, uint64_t throughLineNo) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  if (throughLineNo == 0) return Status::ok();
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
  std::lock_guard runLock(runMu_);
  // Only the logs CF: system lines live in their own CF and the next lineNo in meta, so the
  // numbering continues after the dropped head.
  std::string begin = enc::prefixBegin(id);
  std::string end = enc::lineKey(id, throughLineNo + 1);
  ZC_RETURN_IF_ERROR(db_.deleteRange(kLogs, begin, end));
  reclaim({{kLogs, std::move(begin), std::move(end)}});
  return Status::ok();
}

void Retention::reclaim(const std::vector<PendingCompaction>& ranges) {
  // Compact each deleted range down through the last level so the range tombstones drop the
  // data, then flush every CF so that no memtable pins the old WAL files.
  rocksdb::CompactRangeOptions cro;
  cro.exclusive_manual_compaction = false;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (const auto& r : ranges) {
    rocksdb::Slice begin(r.begin), end(r.end);
    rocksdb::Status s = db_.db()->CompactRange(cro, db_.cf(r.cf), &begin, &end);
    if (!s.ok()) {
      ctx_.logger->log(plugin::LogLevel::kWarn,
                       "rocksdb storage: compaction after retention failed: " + s.ToString());
    }
  }
  rocksdb::Status s = db_.db()->Flush(rocksdb::FlushOptions(), db_.allCfs());
  if (!s.ok()) {
    ctx_.logger->log(plugin::LogLevel::kWarn,
                     "rocksdb storage: flush after retention failed: " + s.ToString());
  }
}

}  // namespace zc::storage
