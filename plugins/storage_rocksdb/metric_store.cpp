#include "metric_store.h"

#include <rocksdb/slice.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <memory>
#include <string>

#include "encoding.h"

namespace zc::storage {

namespace enc = encoding;

Status MetricStore::append(const std::vector<MetricSample>& samples) {
  for (const auto& s : samples) ZC_RETURN_IF_ERROR(validateDeploymentId(s.deploymentId));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, true));
  if (samples.empty()) return Status::ok();
  rocksdb::WriteBatch wb;
  char value[enc::kMetricValueSize];
  for (const auto& s : samples) {
    enc::encodeMetricValue(s, value);
    wb.Put(db_.cf(kMetrics), enc::metricKey(s.deploymentId, s.sampledAt),
           rocksdb::Slice(value, sizeof value));
  }
  return db_.write(&wb);
}

Result<std::vector<MetricSample>> MetricStore::read(std::string_view id, TimeNs from, TimeNs to) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  Database::Lock dbLock;
  ZC_RETURN_IF_ERROR(db_.enter(&dbLock, false));
  std::vector<MetricSample> out;
  int64_t ttl = ctx_.ttls.metricsTtl();
  if (ttl > 0) from = std::max(from, plugin::retentionCutoff(ctx_.clock->now(), ttl));
  if (from > to) return out;
  const std::string upper = enc::prefixEnd(id);
  rocksdb::Slice upperSlice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upperSlice;
  std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, db_.cf(kMetrics)));
  for (it->Seek(enc::metricKey(id, from)); it->Valid(); it->Next()) {
    uint64_t ordered;
    MetricSample s;
    if (!enc::decodeKeyNumber(it->key().ToStringView(), id.size(), &ordered) ||
        !enc::decodeMetricValue(it->value().ToStringView(), &s)) {
      return Status::corruption("rocksdb storage: malformed metric sample of '" + std::string(id) +
                                "'");
    }
    s.sampledAt = enc::orderedToTime(ordered);
    if (s.sampledAt > to) break;
    s.deploymentId.assign(id);
    out.push_back(std::move(s));
  }
  ZC_RETURN_IF_ERROR(fromRocks(it->status(), "rocksdb storage: read metrics"));
  return out;
}

}  // namespace zc::storage
