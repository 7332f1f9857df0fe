#include "postgres_storage.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>

#include "pg_schema.h"
#include "pg_sql.h"
#include "pg_text.h"

namespace zc::pgstorage {

using namespace detail;  // NOLINT(google-build-using-namespace): this plugin's own helpers
using plugin::OptionType;

std::vector<plugin::OptionSpec> PostgresStorage::optionSpecs() const noexcept {
  try {
    std::vector<plugin::OptionSpec> specs = pg::connectionOptionSpecs(
        "libpq connection string or postgresql:// URI (--postgres-url with --storage postgres); "
        "empty: libpq's defaults (PGHOST, PGDATABASE, ...)");
    specs.push_back({"pool_size", OptionType::kInt, "8", "connections the API's threads share", 1, 64});
    specs.push_back({"retention_batch", OptionType::kInt, "10000",
                     "rows one retention DELETE removes at most", 100, 1000000});
    return specs;
  } catch (...) {
    return {};
  }
}

Status PostgresStorage::configure(const plugin::PluginContext& context) noexcept {
  try {
    ZC_ASSIGN_OR_RETURN(plugin::OptionValues v,
                        plugin::OptionValues::parse(optionSpecs(), context.options));
    logger_ = context.logger;
    clock_ = context.clock;
    ZC_ASSIGN_OR_RETURN(pg::ConnectionOptions c, pg::readConnectionOptions(v));
    url_ = c.url;
    passwordFile_ = c.passwordFile;
    connectTimeoutS_ = c.connectTimeoutS;
    statementTimeoutMs_ = c.statementTimeoutMs;
    poolSize_ = static_cast<size_t>(v.integer("pool_size"));
    retentionBatch_ = v.integer("retention_batch");
    target_ = pg::redactConninfo(url_);
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: configure: ") + e.what());
  }
}

Result<std::unique_ptr<PgConnection>> PostgresStorage::connect() {
  std::vector<std::pair<std::string, std::string>> params;
  if (!url_.empty()) params.emplace_back("dbname", url_);
  if (!passwordFile_.empty()) {
    std::ifstream in(passwordFile_);
    std::string password;
    if (!in || !std::getline(in, password)) {
      return Status::failedPrecondition("postgres: password_file '" + passwordFile_ +
                                        "' cannot be read");
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    params.emplace_back("password", password);
  }
  params.emplace_back("connect_timeout", std::to_string(connectTimeoutS_));
  params.emplace_back("client_encoding", "UTF8");
  params.emplace_back("options", "-c client_min_messages=warning -c statement_timeout=" +
                                     std::to_string(statementTimeoutMs_));
  params.emplace_back("application_name", "zynd-collector central");
  params.emplace_back("keepalives", "1");
  params.emplace_back("keepalives_idle", "10");
  params.emplace_back("keepalives_interval", "5");
  params.emplace_back("keepalives_count", "3");
  return PgConnection::connect(params, target_);
}

Status PostgresStorage::track(Status st) {
  std::lock_guard lock(statsMu_);
  if (st.isOk()) {
    healthy_ = true;
    detail_.clear();
  } else if (st.code() == Status::Code::kUnavailable || st.code() == Status::Code::kInternal) {
    healthy_ = false;
    detail_ = st.message();
  }
  return st;
}

Status PostgresStorage::open() noexcept {
  try {
    if (logger_ == nullptr) return Status::failedPrecondition("postgres storage: not configured");
    // The first connection proves the URL and the password and brings the schema up to date:
    // central mode refuses to start without them.
    ZC_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> first, connect());
    ZC_ASSIGN_OR_RETURN(int before, pg::migrate(*first));
    if (before < pg::latestSchemaVersion()) {
      logger_->log(plugin::LogLevel::kInfo, "postgres " + target_ + ": schema migrated from version " +
                                                std::to_string(before) + " to " +
                                                std::to_string(pg::latestSchemaVersion()));
    }
    pool_ = std::make_unique<PgPool>([this] { return connect(); }, poolSize_);
    logger_->log(plugin::LogLevel::kInfo, "postgres " + target_ + ": open (schema version " +
                                              std::to_string(pg::latestSchemaVersion()) + ")");
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: open: ") + e.what());
  }
}

Status PostgresStorage::close() noexcept {
  if (pool_) pool_->clear();
  listen_.reset();
  return Status::ok();
}

void PostgresStorage::setRetentionPolicy(const plugin::RetentionPolicy& policy) noexcept {
  ttls_.set(policy);
}

// --- deployments

Status PostgresStorage::putDeployment(const Deployment& d) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(d.id));
    // A live row set to `stopped` here is a stop request for the host that runs it.
    static const std::string kSql =
        "INSERT INTO deployments (id, host, name, slug, entity_type, status, public_url, "
        "registry_url, entity_id, public_key, host_port, container_id, created_at, started_at, "
        "last_exit_code, last_crash_at, error_message, updated_at) VALUES ($1, $2, $3, $4, $5, "
        "$6, $7, $8, $9, $10, $11, $12, " + ts(13) + ", " + ts(14) + ", $15, " + ts(16) +
        ", $17, now()) ON CONFLICT (id) DO UPDATE SET host = coalesce(EXCLUDED.host, "
        "deployments.host), name = EXCLUDED.name, slug = EXCLUDED.slug, entity_type = "
        "EXCLUDED.entity_type, status = EXCLUDED.status, public_url = EXCLUDED.public_url, "
        "registry_url = EXCLUDED.registry_url, entity_id = EXCLUDED.entity_id, public_key = "
        "EXCLUDED.public_key, host_port = EXCLUDED.host_port, container_id = "
        "EXCLUDED.container_id, created_at = EXCLUDED.created_at, started_at = "
        "EXCLUDED.started_at, last_exit_code = EXCLUDED.last_exit_code, last_crash_at = "
        "EXCLUDED.last_crash_at, error_message = EXCLUDED.error_message, updated_at = now(), "
        "stop_requested_at = CASE WHEN EXCLUDED.status = 'stopped' AND deployments.status <> "
        "'stopped' AND deployments.host IS NOT NULL THEN now() ELSE deployments.stop_requested_at "
        "END";
    const std::string status(toString(d.status));
    return track(pool_->with([&](PgConnection& c) -> Status {
      if (!d.host.empty()) {
        ZC_RETURN_IF_ERROR(c.run("INSERT INTO hosts (host_id, version) VALUES ($1, '') "
                                 "ON CONFLICT DO NOTHING",
                                 {toPgText(d.host)}));
      }
      return c.run(kSql, {d.id, optText(d.host), optText(d.name), optText(d.slug),
                          optText(d.entityType), status, optText(d.publicUrl),
                          optText(d.registryUrl), optText(d.entityId), optText(d.publicKey),
                          optInt(d.hostPort), optText(d.containerId),
                          d.createdAt == 0 ? std::nullopt : optMicros(d.createdAt),
                          optMicros(d.startedAt), optInt(d.lastExitCode),
                          optMicros(d.lastCrashAt), optText(d.errorMessage)});
    }));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: putDeployment: ") + e.what());
  }
}

Result<Deployment> PostgresStorage::getDeployment(std::string_view id) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(id));
    auto r = pool_->with([&](PgConnection& c) {
      return c.exec("SELECT " + kRowColumns + " FROM deployments WHERE id = $1", {std::string(id)});
    });
    if (!r.isOk()) return track(r.status());
    if (r->rows() == 0) return Status::notFound("deployment '" + std::string(id) + "' not found");
    return rowFrom(*r, 0);
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: getDeployment: ") + e.what());
  }
}

Result<std::vector<Deployment>> PostgresStorage::listDeployments() noexcept {
  try {
    auto r = pool_->with([&](PgConnection& c) {
      return c.exec("SELECT " + kRowColumns + " FROM deployments");
    });
    if (!r.isOk()) return track(r.status());
    std::vector<Deployment> out;
    out.reserve(static_cast<size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) out.push_back(rowFrom(*r, i));
    return out;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: listDeployments: ") + e.what());
  }
}

Status PostgresStorage::deleteDeployment(std::string_view id) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(id));
    const std::string sid(id);
    return track(pool_->with([&](PgConnection& c) {
      return transaction(c, [&]() -> Status {
        for (const char* table : {"deployment_logs", "deployment_metrics", "log_cursors",
                                  "log_positions", "forward_cursors"}) {
          ZC_RETURN_IF_ERROR(
              c.run(std::string("DELETE FROM ") + table + " WHERE deployment_id = $1", {sid}));
        }
        return c.run("DELETE FROM deployments WHERE id = $1", {sid});
      });
    }));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: deleteDeployment: ") + e.what());
  }
}

// --- logs

Status PostgresStorage::appendLogs(const plugin::LogBatch& batch) noexcept {
  try {
    ZC_RETURN_IF_ERROR(plugin::validateLogBatchShape(batch));
    return track(pool_->with([&](PgConnection& c) {
      return transaction(c, [&] { return appendLogsIn(c, batch); });
    }));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: appendLogs: ") + e.what());
  }
}

Status PostgresStorage::appendLogsIn(PgConnection& c, const plugin::LogBatch& batch) {
  const std::string& id = batch.deploymentId;
  // The position row, seeded from what the sinks forwarded, locked for the whole batch: racing
  // appenders of one deployment queue here and never number a line twice.
  ZC_RETURN_IF_ERROR(c.run(
      "INSERT INTO log_positions (deployment_id, next_line_no) VALUES ($1, greatest("
      "(SELECT max(last_line_no) + 1 FROM forward_cursors WHERE deployment_id = $1), "
      "(SELECT max(line_no) + 1 FROM deployment_logs WHERE deployment_id = $1), 1)) "
      "ON CONFLICT DO NOTHING",
      {id}));
  ZC_ASSIGN_OR_RETURN(PgResult pos, c.exec("SELECT next_line_no FROM log_positions WHERE "
                                            "deployment_id = $1 FOR UPDATE",
                                            {id}));
  const uint64_t next = static_cast<uint64_t>(pos.integer(0, 0));
  if (!batch.lines.empty() && batch.lines.front().lineNo != next) {
    return Status::failedPrecondition("deployment " + id + ": batch starts at line " +
                                      std::to_string(batch.lines.front().lineNo) +
                                      ", the next line is " + std::to_string(next));
  }
  constexpr size_t kRows = 1000;
  for (size_t start = 0; start < batch.lines.size(); start += kRows) {
    const size_t n = std::min(kRows, batch.lines.size() - start);
    std::string sql = "INSERT INTO deployment_logs (deployment_id, line_no, stream, ts, text, "
                      "truncated) VALUES ";
    PgParams params;
    params.reserve(n * 6);
    for (size_t i = 0; i < n; ++i) {
      const int k = static_cast<int>(i * 6);
      sql += (i == 0 ? "(" : ",(") + std::string("$") + std::to_string(k + 1) + ",$" +
             std::to_string(k + 2) + ",$" + std::to_string(k + 3) + "," + ts(k + 4) + ",$" +
             std::to_string(k + 5) + ",$" + std::to_string(k + 6) + ")";
      const LogLine& l = batch.lines[start + i];
      params.emplace_back(id);
      params.emplace_back(std::to_string(l.lineNo));
      params.emplace_back(std::string(toString(l.stream)));
      params.emplace_back(std::to_string(toMicros(l.ts)));
      params.emplace_back(toPgText(l.text));
      params.emplace_back(l.truncated ? "true" : "false");
    }
    ZC_RETURN_IF_ERROR(c.run(sql, params));
  }
  if (batch.cursor) {
    PgParams p{id, toPgText(batch.cursor->key), std::nullopt};
    // bytea from its hex text form: any bytes round-trip.
    static const char* kHex = "0123456789abcdef";
    std::string hex = "\\x";
    for (unsigned char ch : batch.cursor->value) {
      hex += kHex[ch >> 4];
      hex += kHex[ch & 15];
    }
    p[2] = hex;
    ZC_RETURN_IF_ERROR(c.run("INSERT INTO log_cursors (deployment_id, key, value) VALUES ($1, $2, "
                             "$3::bytea) ON CONFLICT (deployment_id, key) DO UPDATE SET value = "
                             "EXCLUDED.value",
                             p));
  }
  if (!batch.lines.empty()) {
    ZC_RETURN_IF_ERROR(c.run("UPDATE log_positions SET next_line_no = $2 WHERE deployment_id = $1",
                             {id, std::to_string(batch.lines.back().lineNo + 1)}));
    ZC_RETURN_IF_ERROR(c.run("SELECT pg_notify($1, $2)", {std::string(pg::kChangesChannel), id}));
  }
  return Status::ok();
}

Result<uint64_t> PostgresStorage::nextLineNoIn(PgConnection& c, const std::string& id) {
  ZC_ASSIGN_OR_RETURN(
      PgResult r,
      c.exec("SELECT greatest((SELECT next_line_no FROM log_positions WHERE deployment_id = $1), "
             "(SELECT max(last_line_no) + 1 FROM forward_cursors WHERE deployment_id = $1), "
             "(SELECT max(line_no) + 1 FROM deployment_logs WHERE deployment_id = $1), 1)",
             {id}));
  return static_cast<uint64_t>(r.integer(0, 0));
}

Result<uint64_t> PostgresStorage::nextLineNo(std::string_view deploymentId) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    auto r = pool_->with([&](PgConnection& c) { return nextLineNoIn(c, std::string(deploymentId)); });
    if (!r.isOk()) return track(r.status());
    return r;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: nextLineNo: ") + e.what());
  }
}

Result<uint64_t> PostgresStorage::usedBytes() noexcept {
  try {
    auto r = pool_->with([&](PgConnection& c) -> Result<uint64_t> {
      ZC_ASSIGN_OR_RETURN(PgResult q, c.exec("SELECT pg_database_size(current_database())"));
      return static_cast<uint64_t>(q.integer(0, 0));
    });
    if (!r.isOk()) return track(r.status());
    return r;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: usedBytes: ") + e.what());
  }
}

Status PostgresStorage::dropLogLinesThrough(std::string_view deploymentId,
                                            uint64_t throughLineNo) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    if (throughLineNo == 0) return Status::ok();
    return track(pool_->with([&](PgConnection& c) {
      return c.run("DELETE FROM deployment_logs WHERE deployment_id = $1 AND line_no <= $2 "
                   "AND stream <> 'system'",
                   {std::string(deploymentId), std::to_string(throughLineNo)});
    }));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: dropLogLinesThrough: ") + e.what());
  }
}

Result<std::string> PostgresStorage::getCursor(std::string_view deploymentId,
                                               std::string_view key) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    auto r = pool_->with([&](PgConnection& c) {
      return c.exec("SELECT value FROM log_cursors WHERE deployment_id = $1 AND key = $2",
                    {std::string(deploymentId), toPgText(key)});
    });
    if (!r.isOk()) return track(r.status());
    if (r->rows() == 0) return Status::notFound("no cursor '" + std::string(key) + "'");
    return r->bytes(0, 0);
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: getCursor: ") + e.what());
  }
}

Result<plugin::LogPage> PostgresStorage::readLogs(std::string_view deploymentId, uint64_t since,
                                                  plugin::LogReadLimit limit) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    auto r = pool_->with([&](PgConnection& c) {
      return readLogsIn(c, std::string(deploymentId), since, limit);
    });
    if (!r.isOk()) return track(r.status());
    return r;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: readLogs: ") + e.what());
  }
}

Result<plugin::LogPage> PostgresStorage::readLogsIn(PgConnection& c, const std::string& id,
                                                    uint64_t since, plugin::LogReadLimit limit) {
  const TimeNs now = clock_->now();
  const std::string systemFrom = std::to_string(liveFromMicros(now, ttls_.systemTtl()));
  const std::string logsFrom = std::to_string(liveFromMicros(now, ttls_.logsTtl()));
  const size_t lines = (limit.lines == 0 || since >= static_cast<uint64_t>(kMaxBigint))
                           ? 0
                           : std::min<size_t>(limit.lines, 1'000'000);
  const uint64_t after = std::min<uint64_t>(since, static_cast<uint64_t>(kMaxBigint));
  // One statement, so one snapshot and one round trip: nextLineNo, oldestLineNo, and the page
  // (one row with NULL line columns when the page is empty). Prepared once per connection, and
  // answered in binary: the server neither plans it again nor formats 500 timestamps as text
  // (converting ts to microseconds in SQL cost more than the whole index scan).
  static const std::string kSql =
      "SELECT greatest((SELECT next_line_no FROM log_positions WHERE deployment_id = $1), "
      "(SELECT max(last_line_no) + 1 FROM forward_cursors WHERE deployment_id = $1), "
      "(SELECT max(line_no) + 1 FROM deployment_logs WHERE deployment_id = $1), 1), "
      "(SELECT min(line_no) FROM deployment_logs WHERE deployment_id = $1 AND " + liveLines(3, 4) +
      "), p.line_no, p.stream, p.ts, p.text, p.truncated FROM (SELECT 1) one LEFT JOIN LATERAL "
      "(SELECT line_no, stream, ts, text, truncated FROM "
      "deployment_logs WHERE deployment_id = $1 AND line_no > $2 AND " + liveLines(3, 4) +
      " ORDER BY line_no LIMIT $5) p ON true";
  ZC_ASSIGN_OR_RETURN(PgResult r,
                      c.execPrepared(kSql, {id, std::to_string(after), systemFrom, logsFrom,
                                            std::to_string(lines)},
                                     PgConnection::Format::kBinary));
  plugin::LogPage page;
  if (r.rows() == 0) return page;
  page.nextLineNo = static_cast<uint64_t>(r.int8(0, 0));
  page.oldestLineNo = r.isNull(0, 1) ? page.nextLineNo : static_cast<uint64_t>(r.int8(0, 1));
  // The join emits the page in the lateral's order; checking it here keeps that a guarantee
  // rather than an executor detail (one comparison per row when it holds, as it does).
  std::vector<int> order;
  for (int i = 0; i < r.rows() && !r.isNull(i, 2); ++i) order.push_back(i);
  if (!std::is_sorted(order.begin(), order.end(),
                      [&](int a, int b) { return r.int8(a, 2) < r.int8(b, 2); })) {
    std::sort(order.begin(), order.end(), [&](int a, int b) { return r.int8(a, 2) < r.int8(b, 2); });
  }
  size_t textBytes = 0;
  for (size_t k = 0; k < order.size() && textBytes < limit.bytes; ++k) {
    const int i = order[k];
    LogLine l;
    l.deploymentId = id;
    l.lineNo = static_cast<uint64_t>(r.int8(i, 2));
    l.stream = parseLogStream(r.text(i, 3)).value_or(LogStream::kStdout);
    l.ts = r.timestamptzMicros(i, 4) * 1000;
    l.text = r.text(i, 5);
    l.truncated = r.boolean(i, 6);
    textBytes += l.text.size();
    page.lines.push_back(std::move(l));
  }
  return page;
}

// --- metrics

Status PostgresStorage::appendMetrics(const std::vector<MetricSample>& samples) noexcept {
  try {
    for (const MetricSample& s : samples) ZC_RETURN_IF_ERROR(validateDeploymentId(s.deploymentId));
    if (samples.empty()) return Status::ok();
    return track(pool_->with([&](PgConnection& c) {
      return transaction(c, [&]() -> Status {
        for (const MetricSample& s : samples) {
          ZC_RETURN_IF_ERROR(c.run(
              "INSERT INTO deployment_metrics (deployment_id, sampled_at, cpu_pct, mem_used_mb, "
              "mem_limit_mb) VALUES ($1, " + ts(2) + ", $3, $4, $5) ON CONFLICT (deployment_id, "
              "sampled_at) DO UPDATE SET cpu_pct = EXCLUDED.cpu_pct, mem_used_mb = "
              "EXCLUDED.mem_used_mb, mem_limit_mb = EXCLUDED.mem_limit_mb",
              {s.deploymentId, std::to_string(toMicros(s.sampledAt)), number(s.cpuPct),
               std::to_string(std::llround(s.memUsedMb)),
               std::to_string(std::llround(s.memLimitMb))}));
        }
        return Status::ok();
      });
    }));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: appendMetrics: ") + e.what());
  }
}

Result<std::vector<MetricSample>> PostgresStorage::readMetrics(std::string_view deploymentId,
                                                               TimeNs from, TimeNs to) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    std::vector<MetricSample> out;
    if (from > to) return out;
    int64_t fromUs = toMicros(from);
    if (fromUs * 1000 < from) ++fromUs;
    fromUs = std::max(fromUs, liveFromMicros(clock_->now(), ttls_.metricsTtl()));
    const int64_t toUs = std::min<int64_t>(toMicros(to), kLatestMicros);
    auto r = pool_->with([&](PgConnection& c) {
      return c.exec("SELECT " + micros("sampled_at") + ", cpu_pct, mem_used_mb, mem_limit_mb "
                    "FROM deployment_metrics WHERE deployment_id = $1 AND sampled_at >= " + ts(2) +
                    " AND sampled_at <= " + ts(3) + " ORDER BY sampled_at",
                    {std::string(deploymentId), std::to_string(fromUs), std::to_string(toUs)});
    });
    if (!r.isOk()) return track(r.status());
    for (int i = 0; i < r->rows(); ++i) {
      MetricSample s;
      s.deploymentId = std::string(deploymentId);
      s.sampledAt = r->integer(i, 0) * 1000;
      s.cpuPct = std::strtod(r->text(i, 1).c_str(), nullptr);
      s.memUsedMb = static_cast<double>(r->integer(i, 2));
      s.memLimitMb = static_cast<double>(r->integer(i, 3));
      out.push_back(std::move(s));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres storage: readMetrics: ") + e.what());
  }
}
}  // namespace zc::pgstorage
