// LogStore: the log lines of the RocksDB plugin, with what appendLogs() writes beside them:
// the deployment's next lineNo and the runtime's cursors (the `meta` column family).
//
// stdout/stderr lines go to the `logs` column family, system lines to `system`, keyed
// `id '\0' be64(lineNo)` (encoding.h). One append() is one rocksdb::WriteBatch (lines, cursor,
// next lineNo), so a crash keeps all of a batch or none of it. read() merges both families by
// lineNo in one snapshot, hiding lines older than their class's TTL.
//
// Thread-safety: every method may be called concurrently. Appends are serialised per deployment
// by a striped mutex that also guards the cached next lineNo, so appenders of different
// deployments rarely share a lock.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "rocksdb_db.h"

namespace zc::storage {

class LogStore {
 public:
  // OWNERSHIP: `db` and `ctx` outlive this object.
  LogStore(Database& db, const StoreContext& ctx) : db_(db), ctx_(ctx) {}

  // Storage::appendLogs(): the batch must start at the stored next lineNo (FailedPrecondition
  // otherwise, nothing written).
  Status append(const plugin::LogBatch& batch);
  Result<uint64_t> nextLineNo(std::string_view id);
  // NotFound when `id` has no cursor `key`.
  Result<std::string> cursor(std::string_view id, std::string_view key);
  Result<plugin::LogPage> read(std::string_view id, uint64_t since, plugin::LogReadLimit limit);

  // Writes `batch`, which deletes every key of `id`, under `id`'s append lock, and forgets its
  // cached next lineNo: no append of `id` interleaves with it. Caller has entered the Database
  // for a write.
  Status writeRemoval(std::string_view id, rocksdb::WriteBatch* batch);
  // Forgets every cached next lineNo. Database calls it on close, holding the DB exclusively.
  void forgetCache();

 private:
  // One lock stripe: serialises appends of the deployments hashed to it and guards their
  // cached next lineNo (absent = not read from the DB yet).
  struct alignas(64) Stripe {
    std::mutex mu;
    std::map<std::string, uint64_t, std::less<>> next;
  };
  static constexpr size_t kStripeCount = 64;

  Stripe& stripeFor(std::string_view id) noexcept;
  // The next lineNo of `id`, from the stripe's cache or the DB. Caller holds stripe.mu.
  Result<uint64_t> nextLineNoLocked(Stripe& stripe, std::string_view id);
  // Reads the stored next lineNo (1 when none) at `snapshot` (null: latest).
  Result<uint64_t> readNextLineNo(std::string_view id, const rocksdb::Snapshot* snapshot);
  // The batch's lines, cursor and new next lineNo as one WriteBatch.
  Status encode(const plugin::LogBatch& batch, rocksdb::WriteBatch* wb);

  Database& db_;
  const StoreContext& ctx_;
  std::array<Stripe, kStripeCount> stripes_;
};

}  // namespace zc::storage
