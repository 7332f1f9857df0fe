// MetricStore: the metric samples of the RocksDB plugin, in the `metrics` column family, keyed
// `id '\0' be64(sampledAt ^ 2^63)` (encoding.h) so a deployment's samples sort by time and a
// sample re-sent for the same time replaces the stored one.
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "rocksdb_db.h"
#include "zc/model.h"

namespace zc::storage {

class MetricStore {
 public:
  // OWNERSHIP: `db` and `ctx` outlive this object.
  MetricStore(Database& db, const StoreContext& ctx) : db_(db), ctx_(ctx) {}

  // Storage::appendMetrics(): every id is checked before anything is written; one WriteBatch.
  Status append(const std::vector<MetricSample>& samples);
  // Storage::readMetrics(): from <= sampledAt <= to, ascending, expired samples skipped.
  Result<std::vector<MetricSample>> read(std::string_view id, TimeNs from, TimeNs to);

 private:
  Database& db_;
  const StoreContext& ctx_;
};

}  // namespace zc::storage
