#include "log_store.h"

#include <rocksdb/slice.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "encoding.h"

namespace zc::storage {

namespace enc = encoding;

namespace {

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

LogStore::Stripe& LogStore::stripeFor(std::string_view id) noexcept {
  return stripes_[std::hash<std::string_view>{}(id) % kStripeCount];
}

void LogStore::forgetCache() {
  for (auto& stripe : stripes_) {
    std::lock_guard stripeLock(stripe.mu);
    stripe.next.clear();
  }
}

Result<uint64_t> LogStore::readNextLineNo(std::string_view id,
                                          const rocksdb::Snapshot* snapshot) {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_.db()->Get(ro, db_.cf(kMeta), enc::nextLineNoKey(id), &value);
  if (s.IsNotFound()) return uint64_t{1};
  ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: read next lineNo"));
  if (value.size() != 8) {
    return Status::corruption("rocksdb storage: next lineNo of '" + std::string(id) +
                              "' is malformed");
  }
  return enc::getBe64(value.data());
}

Result<uint64_t> LogStore::nextLineNoLocked(Stripe& stripe, std::string_view id) {
  if (auto it = stripe.next.find(id); it != stripe.next.end()) return it->second;
  ZC_ASSIGN_OR_RETURN(uint64_t next, readNextLineNo(id, nullptr));
  stripe.next.emplace(std::string(id), next);
  return next;
}

Status LogStore::encode(const plugin::LogBatch& batch, rocksdb::WriteBatch* wb) {
  const std::string& id = batch.deploymentId;
  std::string key;
  key.reserve(id.size() + enc::kLineKeySuffix);
  key.append(id);
  key.push_back('\0');
  key.resize(id.size() + enc::kLineKeySuffix);
  char* lineNoBytes = key.data() + id.size() + 1;
  char header[enc::kLineHeaderSize];
  for (const LogLine& line : batch.lines) {
    enc::putBe64(lineNoBytes, line.lineNo);
    enc::encodeLineHeader(header, line.stream, line.truncated, line.ts);
    rocksdb::Slice valueParts[2] = {rocksdb::Slice(header, sizeof header),
                                    rocksdb::Slice(line.text)};
    rocksdb::Slice keyPart(key);
    rocksdb::ColumnFamilyHandle* cf =
        line.stream == LogStream::kSystem ? db_.cf(kSystem) : db_.cf(kLogs);
    rocksdb::Status s =
        wb->Put(cf, rocksdb::SliceParts(&keyPart, 1), rocksdb::SliceParts(valueParts, 2));
    if (!s.ok()) return fromRocks(s, "rocksdb storage: encode batch");
  }
  if (!batch.lines.empty()) {
    char nextBytes[8];
    enc::putBe64(nextBytes, batch.lines.back().lineNo + 1);
    wb->Put(db_.cf(kMeta), enc::nextLineNoKey(id), rocksdb::Slice(nextBytes, 8));
  }
  if (batch.cursor) {
    wb->Put(db_.cf(kMeta), enc::cursorKey(id, batch.cursor->key), batch.cursor->value);
  }
  return Status::ok();
}

Status LogStore::append(const plugin::LogBatch& batch) {
  const std::string& id = batch.deploymentId;
  ZC_RETURN_IF_ERROR(plugin::validateLogBatchShape(batch));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
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
  ZC_RETURN_IF_ERROR(encode(batch, &wb));

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
  Status s = db_.write(&wb);
  if (!s.isOk()) {
    // The DB is the truth after a failed write; read it again next time.
    if (auto it = stripe.next.find(id); it != stripe.next.end()) stripe.next.erase(it);
    return s;
  }
  if (!lines.empty()) {
    const uint64_t newNext = lines.back().lineNo + 1;
    auto it = stripe.next.find(id);
    if (it != stripe.next.end()) {
      it->second = newNext;
    } else {
      stripe.next.emplace(id, newNext);
    }
  }
  return Status::ok();
}

Status LogStore::writeRemoval(std::string_view id, rocksdb::WriteBatch* batch) {
  Stripe& stripe = stripeFor(id);
  std::lock_guard lock(stripe.mu);
  Status s = db_.write(batch);
  if (auto it = stripe.next.find(id); it != stripe.next.end()) stripe.next.erase(it);
  return s;
}

Result<uint64_t> LogStore::nextLineNo(std::string_view id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  Stripe& stripe = stripeFor(id);
  std::lock_guard lock(stripe.mu);
  return nextLineNoLocked(stripe, id);
}

Result<std::string> LogStore::cursor(std::string_view id, std::string_view key) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  std::string value;
  rocksdb::Status s =
      db_.db()->Get(rocksdb::ReadOptions(), db_.cf(kMeta), enc::cursorKey(id, key), &value);
  if (s.IsNotFound()) {
    return Status::notFound("no cursor '" + std::string(key) + "' for deployment '" +
                            std::string(id) + "'");
  }
  ZC_RETURN_IF_ERROR(fromRocks(s, "rocksdb storage: get cursor"));
  return value;
}

Result<plugin::LogPage> LogStore::read(std::string_view id, uint64_t since,
                                       plugin::LogReadLimit limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  const TimeNs now = ctx_.clock->now();
  const int64_t ttls[2] = {ctx_.ttls.logsTtl(), ctx_.ttls.systemTtl()};

  // One snapshot for both CFs and the next lineNo, so the page is one consistent view.
  SnapshotGuard snap(db_.db());
  plugin::LogPage page;
  ZC_ASSIGN_OR_RETURN(page.nextLineNo, readNextLineNo(id, snap.get()));

  const std::string upper = enc::prefixEnd(id);
  rocksdb::Slice upperSlice(upper);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.get();
  ro.iterate_upper_bound = &upperSlice;
  std::unique_ptr<rocksdb::Iterator> its[2] = {
      std::unique_ptr<rocksdb::Iterator>(db_.db()->NewIterator(ro, db_.cf(kLogs))),
      std::unique_ptr<rocksdb::Iterator>(db_.db()->NewIterator(ro, db_.cf(kSystem)))};

  // Moves `it` past expired lines; false on a malformed value.
  auto skipExpired = [&](rocksdb::Iterator* it, int64_t ttl) {
    for (; it->Valid(); it->Next()) {
      TimeNs ts;
      if (!enc::decodeLineTs(it->value().ToStringView(), &ts)) return false;
      if (!plugin::isExpired(ts, ttl, now)) break;
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

  if (limit.lines > 0 && since < std::numeric_limits<uint64_t>::max()) {
    const std::string start = enc::lineKey(id, since + 1);
    for (auto& it : its) it->Seek(start);
    page.lines.reserve(std::min<size_t>(limit.lines, 4096));
    size_t textBytes = 0;
    while (page.lines.size() < limit.lines && textBytes < limit.bytes) {
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
      textBytes += text.size();
      pick->Next();
    }
    for (auto& it : its) ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: read logs"));
  }
  return page;
}

}  // namespace zc::storage
