#include "postgres_sink.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "pg_copy.h"
#include "pg_schema.h"
#include "pg_text.h"

namespace zc::pgsink {
namespace {

using plugin::OptionType;

// A timestamptz from a bigint parameter of microseconds since the epoch (exact; NULL stays NULL).
std::string tsFromMicros(int n) {
  return "(timestamptz 'epoch' + $" + std::to_string(n) + "::bigint * interval '1 microsecond')";
}

std::string micros(TimeNs t) { return std::to_string(toMicros(t)); }

std::optional<std::string> optionalMicros(const std::optional<TimeNs>& t) {
  if (!t || *t == 0) return std::nullopt;
  return micros(*t);
}

std::optional<std::string> optionalText(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return toPgText(s);
}

std::string number(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

// Checks the batch's shape before anything is sent.
Status validateBatch(const plugin::SinkBatch& b) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(b.deploymentId));
  if (b.row && b.row->id != b.deploymentId) {
    return Status::invalidArgument("postgres: batch row is of another deployment");
  }
  for (size_t i = 0; i < b.lines.size(); ++i) {
    const LogLine& l = b.lines[i];
    if (l.deploymentId != b.deploymentId || l.lineNo == 0 ||
        (i > 0 && l.lineNo != b.lines[i - 1].lineNo + 1)) {
      return Status::invalidArgument("postgres: batch lines must be of " + b.deploymentId +
                                     " and ascend by one (line " + std::to_string(l.lineNo) + ")");
    }
  }
  for (size_t i = 0; i < b.samples.size(); ++i) {
    const MetricSample& s = b.samples[i];
    if (s.deploymentId != b.deploymentId || (i > 0 && s.sampledAt <= b.samples[i - 1].sampledAt)) {
      return Status::invalidArgument("postgres: batch samples must be of " + b.deploymentId +
                                     " and ascend by sampledAt");
    }
  }
  return Status::ok();
}

// "($1,$2,...),($7,...)" for `rows` rows of `cols` parameters, each wrapped by `wrap(col, n)`.
template <typename Wrap>
std::string valuesList(size_t rows, size_t cols, Wrap wrap) {
  std::string out;
  int n = 1;
  for (size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ",(";
    for (size_t c = 0; c < cols; ++c, ++n) {
      if (c > 0) out += ',';
      out += wrap(c, n);
    }
    out += ')';
  }
  return out;
}

}  // namespace

std::vector<plugin::OptionSpec> PostgresSink::optionSpecs() const noexcept {
  try {
    std::vector<plugin::OptionSpec> specs = pg::connectionOptionSpecs(
        "libpq connection string or postgresql:// URI (--postgres-url); empty: libpq's "
        "defaults (PGHOST, PGDATABASE, ...)");
    specs.push_back({"rows_per_statement", OptionType::kInt, "1000",
                     "samples, and lines that cannot go by COPY, per INSERT statement", 1, 10000});
    return specs;
  } catch (...) {
    return {};
  }
}

Status PostgresSink::configure(const plugin::PluginContext& context) noexcept {
  try {
    ZC_ASSIGN_OR_RETURN(plugin::OptionValues v,
                        plugin::OptionValues::parse(optionSpecs(), context.options));
    logger_ = context.logger;
    ZC_ASSIGN_OR_RETURN(pg::ConnectionOptions c, pg::readConnectionOptions(v));
    url_ = c.url;
    passwordFile_ = c.passwordFile;
    connectTimeoutS_ = c.connectTimeoutS;
    statementTimeoutMs_ = c.statementTimeoutMs;
    rowsPerStatement_ = static_cast<size_t>(v.integer("rows_per_statement"));
    target_ = redactConninfo(url_);
    setDetail(false, "not connected yet");
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres: configure: ") + e.what());
  }
}

void PostgresSink::setDetail(bool connected, std::string detail) {
  std::lock_guard lock(statsMu_);
  stats_.connected = connected;
  stats_.detail = std::move(detail);
}

plugin::SinkStats PostgresSink::stats() noexcept {
  std::lock_guard lock(statsMu_);
  return stats_;
}

Status PostgresSink::track(Status st) {
  if (st.isOk()) return st;
  if (st.code() == Status::Code::kUnavailable || (conn_ && !conn_->healthy())) {
    conn_.reset();
    setDetail(false, st.message());
    if (st.code() != Status::Code::kUnavailable) return Status::unavailable(st.message());
  }
  return st;
}

Status PostgresSink::open(const plugin::SinkHostInfo& host) noexcept {
  try {
    Status st = openImpl(host);
    if (!st.isOk()) {
      conn_.reset();
      setDetail(false, st.message());
    }
    return st;
  } catch (const std::exception& e) {
    conn_.reset();
    return Status::internal(std::string("postgres: open: ") + e.what());
  }
}

Status PostgresSink::openImpl(const plugin::SinkHostInfo& host) {
  conn_.reset();
  host_ = host;
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
  // libpq prints server notices (e.g. "already exists, skipping") on stderr otherwise.
  params.emplace_back("options", "-c client_min_messages=warning");
  params.emplace_back("application_name", "zynd-collector " + host.hostId);
  // A server that vanished without closing the connection is noticed within about 25 s.
  params.emplace_back("keepalives", "1");
  params.emplace_back("keepalives_idle", "10");
  params.emplace_back("keepalives_interval", "5");
  params.emplace_back("keepalives_count", "3");
  ZC_ASSIGN_OR_RETURN(conn_, PgConnection::connect(params, target_));
  ZC_RETURN_IF_ERROR(conn_->run("SELECT set_config('statement_timeout', $1, false)",
                                {std::to_string(statementTimeoutMs_)}));
  ZC_ASSIGN_OR_RETURN(int before, migrate(*conn_));
  if (before < latestSchemaVersion()) {
    logger_->log(plugin::LogLevel::kInfo, "postgres " + target_ + ": schema migrated from version " +
                                              std::to_string(before) + " to " +
                                              std::to_string(latestSchemaVersion()));
  }
  ZC_RETURN_IF_ERROR(conn_->run(
      "INSERT INTO hosts (host_id, advertise_url, version) VALUES ($1, $2, $3) "
      "ON CONFLICT (host_id) DO UPDATE SET advertise_url = EXCLUDED.advertise_url, "
      "version = EXCLUDED.version, last_seen_at = now()",
      {host.hostId, optionalText(host.advertiseUrl), host.version}));
  setDetail(true, "");
  return Status::ok();
}

Status PostgresSink::close() noexcept {
  conn_.reset();
  setDetail(false, "closed");
  return Status::ok();
}

Result<plugin::SinkPosition> PostgresSink::position(std::string_view deploymentId) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(deploymentId));
    if (!conn_) return Status::unavailable("postgres " + target_ + ": not connected");
    auto r = conn_->exec(
        "SELECT last_line_no, last_sampled_at_ns FROM forward_cursors "
        "WHERE host_id = $1 AND deployment_id = $2",
        {host_.hostId, std::string(deploymentId)});
    if (!r.isOk()) return track(r.status());
    plugin::SinkPosition p;
    if (r->rows() > 0) {
      p.lastLineNo = static_cast<uint64_t>(r->integer(0, 0));
      p.lastSampledAt = r->integer(0, 1);
    }
    return p;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres: position: ") + e.what());
  }
}

Status PostgresSink::write(const plugin::SinkBatch& batch) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateBatch(batch));
    if (!conn_) return Status::unavailable("postgres " + target_ + ": not connected");
    Status st = writeImpl(batch, /*copyLines=*/true);
    if (!st.isOk() && conn_ && conn_->healthy()) {
      const bool duplicate = conn_->lastSqlState() == "23505";
      (void)conn_->run("ROLLBACK");
      // Lines past the cursor already there (another host forwarded the same deployment id, or
      // rows written by hand): COPY cannot skip them, INSERT ... ON CONFLICT DO NOTHING can.
      if (duplicate) {
        st = writeImpl(batch, /*copyLines=*/false);
        if (!st.isOk() && conn_ && conn_->healthy()) (void)conn_->run("ROLLBACK");
      }
    }
    return track(st);
  } catch (const std::exception& e) {
    if (conn_ && conn_->healthy()) (void)conn_->run("ROLLBACK");
    return Status::internal(std::string("postgres: write: ") + e.what());
  }
}

Status PostgresSink::writeImpl(const plugin::SinkBatch& batch, bool copyLines) {
  const std::string& id = batch.deploymentId;
  ZC_RETURN_IF_ERROR(conn_->run("BEGIN"));
  // The cursor, locked: what it already covers (a resend after a lost COMMIT answer) is skipped,
  // and a second writer of the same (host, deployment) waits here. Created at the first batch.
  static const std::string kLockCursor =
      "SELECT last_line_no, last_sampled_at_ns FROM forward_cursors "
      "WHERE host_id = $1 AND deployment_id = $2 FOR UPDATE";
  ZC_ASSIGN_OR_RETURN(PgResult cur, conn_->exec(kLockCursor, {host_.hostId, id}));
  if (cur.rows() == 0) {
    ZC_RETURN_IF_ERROR(conn_->run("INSERT INTO forward_cursors (host_id, deployment_id) VALUES "
                                  "($1, $2) ON CONFLICT DO NOTHING",
                                  {host_.hostId, id}));
    ZC_ASSIGN_OR_RETURN(cur, conn_->exec(kLockCursor, {host_.hostId, id}));
  }
  const uint64_t lastLine = static_cast<uint64_t>(cur.integer(0, 0));
  const TimeNs lastSample = cur.integer(0, 1);
  if (batch.row) ZC_RETURN_IF_ERROR(upsertRow(*batch.row));

  std::vector<LogLine> lines;
  for (const LogLine& l : batch.lines) {
    if (l.lineNo > lastLine) lines.push_back(l);
  }
  std::vector<MetricSample> samples;
  for (const MetricSample& s : batch.samples) {
    if (s.sampledAt > lastSample) samples.push_back(s);
  }
  ZC_RETURN_IF_ERROR(copyLines ? copyInLines(lines) : insertLines(lines));
  ZC_RETURN_IF_ERROR(insertSamples(samples));
  const uint64_t newLine = lines.empty() ? lastLine : lines.back().lineNo;
  const TimeNs newSample = samples.empty() ? lastSample : samples.back().sampledAt;
  // The new position and, when lines or the row changed, the NOTIFY, in one statement; the
  // listeners (central instances) hear it only if and when this commits.
  static const std::string kAdvance =
      "UPDATE forward_cursors SET last_line_no = $3, last_sampled_at_ns = $4, updated_at = now() "
      "WHERE host_id = $1 AND deployment_id = $2";
  static const std::string kAdvanceAndNotify =
      "WITH advanced AS (" + kAdvance + " RETURNING deployment_id) "
      "SELECT pg_notify($5, deployment_id) FROM advanced";
  const bool notify = !lines.empty() || batch.row.has_value();
  PgParams params{host_.hostId, id, std::to_string(newLine), std::to_string(newSample)};
  if (notify) params.emplace_back(std::string(kChangesChannel));
  ZC_RETURN_IF_ERROR(conn_->run(notify ? kAdvanceAndNotify : kAdvance, params));
  return conn_->run("COMMIT");
}

Status PostgresSink::upsertRow(const Deployment& d) {
  static const std::string kSql =
      "INSERT INTO deployments (id, host, name, slug, entity_type, status, public_url, "
      "registry_url, entity_id, public_key, host_port, container_id, created_at, started_at, "
      "last_exit_code, last_crash_at, error_message, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
      "$7, $8, $9, $10, $11, $12, " + tsFromMicros(13) + ", " + tsFromMicros(14) + ", $15, " +
      tsFromMicros(16) + ", $17, now()) ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, "
      "name = EXCLUDED.name, slug = EXCLUDED.slug, entity_type = EXCLUDED.entity_type, "
      "status = CASE WHEN deployments.stop_requested_at IS NOT NULL AND deployments.stop_handled_at "
      "IS DISTINCT FROM deployments.stop_requested_at THEN 'stopped' ELSE EXCLUDED.status END, "
      "public_url = EXCLUDED.public_url, registry_url = "
      "EXCLUDED.registry_url, entity_id = EXCLUDED.entity_id, public_key = EXCLUDED.public_key, "
      "host_port = EXCLUDED.host_port, container_id = EXCLUDED.container_id, created_at = "
      "EXCLUDED.created_at, started_at = EXCLUDED.started_at, last_exit_code = "
      "EXCLUDED.last_exit_code, last_crash_at = EXCLUDED.last_crash_at, error_message = "
      "EXCLUDED.error_message, updated_at = now()";
  auto optInt = [](const std::optional<int>& v) -> std::optional<std::string> {
    if (!v) return std::nullopt;
    return std::to_string(*v);
  };
  return conn_->run(kSql, {d.id, host_.hostId, optionalText(d.name), optionalText(d.slug),
                           optionalText(d.entityType), std::string(toString(d.status)),
                           optionalText(d.publicUrl), optionalText(d.registryUrl),
                           optionalText(d.entityId), optionalText(d.publicKey), optInt(d.hostPort),
                           optionalText(d.containerId), optionalMicros(d.createdAt),
                           optionalMicros(d.startedAt), optInt(d.lastExitCode),
                           optionalMicros(d.lastCrashAt), optionalText(d.errorMessage)});
}

Status PostgresSink::copyInLines(const std::vector<LogLine>& lines) {
  if (lines.empty()) return Status::ok();
  PgCopyWriter rows;
  for (const LogLine& l : lines) {
    rows.row(6);
    rows.text(l.deploymentId);
    rows.int8(static_cast<int64_t>(l.lineNo));
    rows.text(toString(l.stream));
    rows.timestamptz(l.ts);
    rows.text(toPgText(l.text));
    rows.boolean(l.truncated);
  }
  return conn_->copyIn("COPY deployment_logs (deployment_id, line_no, stream, ts, text, truncated) "
                       "FROM STDIN WITH (FORMAT binary)",
                       rows.finish());
}

Status PostgresSink::insertLines(const std::vector<LogLine>& lines) {
  for (size_t start = 0; start < lines.size(); start += rowsPerStatement_) {
    const size_t n = std::min(rowsPerStatement_, lines.size() - start);
    std::string sql =
        "INSERT INTO deployment_logs (deployment_id, line_no, stream, ts, text, truncated) VALUES " +
        valuesList(n, 6, [](size_t col, int k) {
          return col == 3 ? tsFromMicros(k) : "$" + std::to_string(k);
        }) +
        " ON CONFLICT DO NOTHING";
    PgParams params;
    params.reserve(n * 6);
    for (size_t i = start; i < start + n; ++i) {
      const LogLine& l = lines[i];
      params.emplace_back(l.deploymentId);
      params.emplace_back(std::to_string(l.lineNo));
      params.emplace_back(std::string(toString(l.stream)));
      params.emplace_back(micros(l.ts));
      params.emplace_back(toPgText(l.text));
      params.emplace_back(l.truncated ? "true" : "false");
    }
    ZC_RETURN_IF_ERROR(conn_->run(sql, params));
  }
  return Status::ok();
}

Status PostgresSink::insertSamples(const std::vector<MetricSample>& samples) {
  for (size_t start = 0; start < samples.size(); start += rowsPerStatement_) {
    const size_t n = std::min(rowsPerStatement_, samples.size() - start);
    std::string sql =
        "INSERT INTO deployment_metrics (deployment_id, sampled_at, cpu_pct, mem_used_mb, "
        "mem_limit_mb) VALUES " +
        valuesList(n, 5, [](size_t col, int k) {
          return col == 1 ? tsFromMicros(k) : "$" + std::to_string(k);
        }) +
        " ON CONFLICT DO NOTHING";
    PgParams params;
    params.reserve(n * 5);
    for (size_t i = start; i < start + n; ++i) {
      const MetricSample& s = samples[i];
      params.emplace_back(s.deploymentId);
      params.emplace_back(micros(s.sampledAt));
      params.emplace_back(number(s.cpuPct));
      params.emplace_back(std::to_string(std::llround(s.memUsedMb)));
      params.emplace_back(std::to_string(std::llround(s.memLimitMb)));
    }
    ZC_RETURN_IF_ERROR(conn_->run(sql, params));
  }
  return Status::ok();
}

Result<std::vector<plugin::SinkStopRequest>> PostgresSink::pendingStops() noexcept {
  try {
    if (!conn_) return Status::unavailable("postgres " + target_ + ": not connected");
    // The host's heartbeat: a central instance lists the hosts seen lately as scrape targets.
    Status beat = conn_->run("UPDATE hosts SET last_seen_at = now() WHERE host_id = $1",
                             {host_.hostId});
    if (!beat.isOk()) return track(beat);
    auto r = conn_->exec(
        "SELECT id, (extract(epoch FROM stop_requested_at) * 1000000)::bigint FROM deployments "
        "WHERE host = $1 AND stop_requested_at IS NOT NULL AND stop_handled_at IS DISTINCT FROM "
        "stop_requested_at ORDER BY stop_requested_at LIMIT 1000",
        {host_.hostId});
    if (!r.isOk()) return track(r.status());
    std::vector<plugin::SinkStopRequest> out;
    for (int i = 0; i < r->rows(); ++i) {
      if (!isValidDeploymentId(r->text(i, 0))) continue;
      out.push_back({r->text(i, 0), r->integer(i, 1) * 1000});
    }
    return out;
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres: pendingStops: ") + e.what());
  }
}

Status PostgresSink::stopTaken(const plugin::SinkStopRequest& request) noexcept {
  try {
    ZC_RETURN_IF_ERROR(validateDeploymentId(request.deploymentId));
    if (!conn_) return Status::unavailable("postgres " + target_ + ": not connected");
    return track(conn_->run("UPDATE deployments SET stop_handled_at = stop_requested_at WHERE id = "
                            "$1 AND host = $2 AND stop_requested_at = " + tsFromMicros(3),
                            {request.deploymentId, host_.hostId, micros(request.requestedAt)}));
  } catch (const std::exception& e) {
    return Status::internal(std::string("postgres: stopTaken: ") + e.what());
  }
}

}  // namespace zc::pgsink
