// Internal to storage_postgres: the SQL fragments and value conversions its two source files
// share (postgres_storage.cpp: rows, logs, metrics; postgres_storage_upkeep.cpp: retention,
// stats, hosts, change feed). Not a public contract.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "pg_conn.h"
#include "pg_text.h"
#include "zc/model.h"
#include "zc/plugin/storage.h"

namespace zc::pgstorage::detail {

using pg::PgParams;
using pg::PgResult;
using pg::toMicros;
using pg::toPgText;
using ::zc::pg::PgConnection;

constexpr int64_t kMaxBigint = std::numeric_limits<int64_t>::max();
// Bounds of the times sent as parameters, well inside timestamptz's range (about 1200 BC and
// 128,000 AD): "keep forever" and "up to any time" become these.
constexpr int64_t kEarliestMicros = -100'000'000'000'000'000;
constexpr int64_t kLatestMicros = 4'000'000'000'000'000'000;

// A timestamptz from parameter $n holding microseconds since the epoch.
inline std::string ts(int n) {
  return "(timestamptz 'epoch' + $" + std::to_string(n) + "::bigint * interval '1 microsecond')";
}
// A timestamptz column as microseconds since the epoch (exact: extract() is numeric).
inline std::string micros(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000000)::bigint";
}

inline std::optional<std::string> optText(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return toPgText(s);
}
inline std::optional<std::string> optMicros(const std::optional<TimeNs>& t) {
  if (!t || *t == 0) return std::nullopt;
  return std::to_string(toMicros(*t));
}
inline std::optional<std::string> optInt(const std::optional<int>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}
inline std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

// The first microsecond at or after `cutoff` (ns): data at or after it is live. A TTL of 0 keeps
// everything (the smallest bigint PostgreSQL's timestamptz arithmetic takes).
inline int64_t liveFromMicros(TimeNs now, int64_t ttl) {
  if (ttl <= 0) return kEarliestMicros;
  TimeNs cutoff = plugin::retentionCutoff(now, ttl);
  int64_t us = toMicros(cutoff);
  if (us * 1000 < cutoff) ++us;
  return us;
}

inline const std::string kRowColumns =
    "id, host, name, slug, entity_type, status, public_url, registry_url, entity_id, public_key, "
    "host_port, container_id, " + micros("created_at") + ", " + micros("started_at") +
    ", last_exit_code, " + micros("last_crash_at") + ", error_message";

inline Deployment rowFrom(const PgResult& r, int i) {
  auto text = [&](int c) { return r.isNull(i, c) ? std::string() : r.text(i, c); };
  Deployment d;
  d.id = r.text(i, 0);
  d.host = text(1);
  d.name = text(2);
  d.slug = text(3);
  d.entityType = text(4);
  d.status = parseDeploymentStatus(r.text(i, 5)).value_or(DeploymentStatus::kRunning);
  d.publicUrl = text(6);
  d.registryUrl = text(7);
  d.entityId = text(8);
  d.publicKey = text(9);
  if (!r.isNull(i, 10)) d.hostPort = static_cast<int>(r.integer(i, 10));
  d.containerId = text(11);
  if (!r.isNull(i, 12)) d.createdAt = r.integer(i, 12) * 1000;
  if (!r.isNull(i, 13)) d.startedAt = r.integer(i, 13) * 1000;
  if (!r.isNull(i, 14)) d.lastExitCode = static_cast<int>(r.integer(i, 14));
  if (!r.isNull(i, 15)) d.lastCrashAt = r.integer(i, 15) * 1000;
  d.errorMessage = text(16);
  return d;
}

// Runs `body` between BEGIN and COMMIT on `c`; ROLLBACK when it fails.
template <typename Body>
Status transaction(PgConnection& c, Body&& body) {
  ZC_RETURN_IF_ERROR(c.run("BEGIN"));
  Status st = body();
  if (!st.isOk()) {
    if (c.healthy()) (void)c.run("ROLLBACK");
    return st;
  }
  return c.run("COMMIT");
}

// The live-line condition of deployment_logs with the cutoffs in $a (system) and $b (others).
inline std::string liveLines(int a, int b) {
  return "((stream = 'system' AND ts >= " + ts(a) + ") OR (stream <> 'system' AND ts >= " + ts(b) +
         "))";
}


}  // namespace zc::pgstorage::detail
