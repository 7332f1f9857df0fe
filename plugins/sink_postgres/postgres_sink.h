// PostgresSink: the `postgres` sink (zc_sink_postgres.so). Forwards a host's deployment rows, log
// lines and metric samples to PostgreSQL; the schema is in pg_schema.cpp, the options and the
// failure behaviour in README.md.
//
// write() is one transaction: the host's forward cursor for the deployment, read FOR UPDATE first
// so that what the cursor already covers is skipped; the deployment row (upsert); the lines (one
// binary COPY; when some are already there past the cursor, the transaction is rolled back and
// written again with multi-row INSERT ... ON CONFLICT DO NOTHING); the samples (INSERT ... ON
// CONFLICT DO NOTHING); the cursor's new position with the NOTIFY. A crash or a lost connection
// before COMMIT leaves nothing; after it, everything and the cursor.
// Thread-safety: as plugin::Sink (one calling thread; stats() from any thread).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "pg_conn.h"
#include "zc/plugin/sink.h"

namespace zc::pgsink {
using namespace ::zc::pg;  // the shared connection, schema and text helpers

class PostgresSink final : public plugin::Sink {
 public:
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  Status configure(const plugin::PluginContext& context) noexcept override;

  Status open(const plugin::SinkHostInfo& host) noexcept override;
  Status close() noexcept override;
  Result<plugin::SinkPosition> position(std::string_view deploymentId) noexcept override;
  Status write(const plugin::SinkBatch& batch) noexcept override;
  plugin::SinkStats stats() noexcept override;
  // Rows of this host a central instance set to `stopped` (stop_requested_at newer than
  // stop_handled_at).
  Result<std::vector<plugin::SinkStopRequest>> pendingStops() noexcept override;
  Status stopTaken(const plugin::SinkStopRequest& request) noexcept override;

 private:
  Status openImpl(const plugin::SinkHostInfo& host);
  // One try of write(): lines by COPY (`copyLines`) or by INSERT ... ON CONFLICT DO NOTHING.
  Status writeImpl(const plugin::SinkBatch& batch, bool copyLines);
  Status copyInLines(const std::vector<LogLine>& lines);
  Status insertLines(const std::vector<LogLine>& lines);
  Status insertSamples(const std::vector<MetricSample>& samples);
  Status upsertRow(const Deployment& row);
  // Drops the connection when `st` says it is lost; returns `st`.
  Status track(Status st);
  void setDetail(bool connected, std::string detail);

  plugin::Logger* logger_ = nullptr;
  std::string url_;
  std::string passwordFile_;
  int64_t connectTimeoutS_ = 5;
  int64_t statementTimeoutMs_ = 30000;
  size_t rowsPerStatement_ = 1000;
  std::string target_;  // the redacted connection string, for messages

  plugin::SinkHostInfo host_;
  std::unique_ptr<PgConnection> conn_;

  std::mutex statsMu_;
  plugin::SinkStats stats_;  // guarded by statsMu_
};

}  // namespace zc::pgsink
