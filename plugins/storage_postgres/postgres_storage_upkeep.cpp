#include "postgres_storage.h"

#include <poll.h>

#include <set>

#include "pg_schema.h"
#include "pg_sql.h"

// Retention, stats, the hosts and the change feed of PostgresStorage (the rest is in
// postgres_storage.cpp).
namespace zc::pgstorage {

using namespace detail;  // NOLINT(google-build-using-namespace): this plugin's own helpers

// --- retention

Result<int64_t> PostgresStorage::deleteInBatches(PgConnection& c, const std::string& table,
                                                 const std::string& where, TimeNs cutoffUs) {
  // Each DELETE takes at most retention_batch rows (its own short transaction), so a large
  // backlog never holds locks or a snapshot for long.
  int64_t total = 0;
  for (;;) {
    ZC_ASSIGN_OR_RETURN(PgResult r,
                        c.exec("DELETE FROM " + table + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " +
                                   table + " WHERE " + where + " LIMIT $2))",
                               {std::to_string(cutoffUs), std::to_string(retentionBatch_)}));
    total += r.affected();
    if (r.affected() < retentionBatch_) return total;
  }
}

Result<plugin::RetentionReport> PostgresStorage::applyRetention() noexcept {
  try {
    std::lock_guard lock(retentionMu_);
    const TimeNs now = clock_->now();
    plugin::RetentionReport report;
    Status st = pool_->with([&](PgConnection& c) -> Status {
      if (ttls_.logsTtl() > 0) {
        ZC_ASSIGN_OR_RETURN(int64_t n, deleteInBatches(c, "deployment_logs",
                                                       "stream <> 'system' AND ts < " + ts(1),
                                                       liveFromMicros(now, ttls_.logsTtl())));
        report.logLinesDeleted = static_cast<uint64_t>(n);
      }
      if (ttls_.systemTtl() > 0) {
        ZC_ASSIGN_OR_RETURN(int64_t n, deleteInBatches(c, "deployment_logs",
                                                       "stream = 'system' AND ts < " + ts(1),
                                                       liveFromMicros(now, ttls_.systemTtl())));
        report.systemLinesDeleted = static_cast<uint64_t>(n);
      }
      if (ttls_.metricsTtl() > 0) {
        ZC_ASSIGN_OR_RETURN(int64_t n, deleteInBatches(c, "deployment_metrics",
                                                       "sampled_at < " + ts(1),
                                                       liveFromMicros(now, ttls_.metricsTtl())));
        report.metricSamplesDeleted = static_cast<uint64_t>(n);
      }
      return Status::ok();
    });
    if (!st.isOk()) return track(st);
    return report;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: applyRetention: ") + e.what());
  }
}

plugin::StorageStats PostgresStorage::stats() noexcept {
  plugin::StorageStats s;
  try {
    if (pool_) {
      auto r = pool_->with([](PgConnection& c) {
        return c.exec("SELECT pg_database_size(current_database())");
      });
      if (r.isOk()) s.bytesOnDisk = static_cast<uint64_t>(r->integer(0, 0));
    }
  } catch (...) {
  }
  std::lock_guard lock(statsMu_);
  s.healthy = healthy_;
  s.detail = detail_;
  return s;
}

// --- fleet

Result<std::vector<plugin::HostRecord>> PostgresStorage::listHosts() noexcept {
  try {
    auto r = pool_->with([](PgConnection& c) {
      return c.exec("SELECT host_id, advertise_url, " + micros("last_seen_at") +
                    " FROM hosts ORDER BY host_id");
    });
    if (!r.isOk()) return track(r.status());
    std::vector<plugin::HostRecord> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({r->text(i, 0), r->isNull(i, 1) ? std::string() : r->text(i, 1),
                     r->integer(i, 2) * 1000});
    }
    return out;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: listHosts: ") + e.what());
  }
}

// --- change feed

Result<std::vector<std::string>> PostgresStorage::waitForChanges(int64_t timeoutMs) noexcept {
  try {
    if (!listen_) {
      ZC_ASSIGN_OR_RETURN(listen_, connect());
      Status st = listen_->run(std::string("LISTEN ") + pg::kChangesChannel);
      if (!st.isOk()) {
        listen_.reset();
        return st;
      }
    }
    std::set<std::string> ids;
    auto collect = [&]() -> Status {
      auto got = listen_->notifications();
      if (!got.isOk()) {
        listen_.reset();
        return got.status();
      }
      for (auto& [channel, payload] : *got) {
        if (channel == pg::kChangesChannel && isValidDeploymentId(payload)) ids.insert(payload);
      }
      return Status::ok();
    };
    ZC_RETURN_IF_ERROR(collect());
    if (ids.empty()) {
      pollfd p{listen_->socket(), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(timeoutMs, 0, 60'000)));
      if (n > 0) ZC_RETURN_IF_ERROR(collect());
    }
    return std::vector<std::string>(ids.begin(), ids.end());
  } catch (const std::exception& e) {
    listen_.reset();
    return Status::internal(std::string("postgres storage: waitForChanges: ") + e.what());
  }
}

}  // namespace zc::pgstorage
