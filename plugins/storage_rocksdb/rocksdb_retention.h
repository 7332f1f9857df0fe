// Retention: deletes what is older than its class's TTL and gives the space back
// (Storage::applyRetention()).
//
// Per deployment, the head of the lineNo-ordered lines in `logs` and `system` up to the first
// live line is deleted with one DeleteRange; metric samples are deleted by time. The deleted
// ranges, and those handed over by compactLater() (a removed deployment's), are then compacted
// through the last level and every column family is flushed, so no memtable pins old WAL files.
//
// Thread-safety: every method may be called concurrently, also with appends and reads; one
// apply() or dropLogLinesThrough() runs at a time.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb_db.h"

namespace zc::storage {

class Retention {
 public:
  // OWNERSHIP: `db` and `ctx` outlive this object.
  Retention(Database& db, const StoreContext& ctx) : db_(db), ctx_(ctx) {}

  // Deletes expired data at the context clock's now and the context TTLs, and reclaims the space
  // (a failed compaction or flush is only logged).
  Result<plugin::RetentionReport> apply();
  // Storage::dropLogLinesThrough(): deletes the stdout/stderr lines of `id` up to `throughLineNo`
  // with one DeleteRange and compacts that range at once (the quota is measured right after).
  Status dropLogLinesThrough(std::string_view id, uint64_t throughLineNo);
  // Compacts [begin, end) of `cf` at the next apply(): its data was deleted elsewhere.
  void compactLater(Cf cf, std::string begin, std::string end);

 private:
  // A key range whose deleted data the next apply() compacts away.
  struct PendingCompaction {
    Cf cf;
    std::string begin;
    std::string end;
  };

  // Deletes the expired head of every deployment's range in a logs or system CF.
  Status retainLines(Cf cf, TimeNs cutoff, uint64_t* deleted,
                     std::vector<PendingCompaction>* ranges);
  Status retainMetrics(TimeNs cutoff, uint64_t* deleted, std::vector<PendingCompaction>* ranges);
  void reclaim(const std::vector<PendingCompaction>& ranges);

  Database& db_;
  const StoreContext& ctx_;
  std::mutex runMu_;  // one apply() at a time
  std::mutex pendingMu_;
  std::vector<PendingCompaction> pending_;  // guarded by pendingMu_
};

}  // namespace zc::storage
