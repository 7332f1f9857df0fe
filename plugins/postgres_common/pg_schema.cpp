#include "pg_schema.h"

#include <string>

namespace zc::pg {
namespace {

// Any fixed 64-bit key of our own: the advisory lock every migrating collector takes.
constexpr const char* kMigrationLockKey = "7370817237112101";

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append-only: a released migration is never edited, a change is a new one.
const Migration kMigrations[] = {
    {1, "hosts, deployments, logs, metrics, forward cursors", R"SQL(
CREATE TABLE hosts (
  host_id       text PRIMARY KEY,
  advertise_url text,
  version       text NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE hosts IS 'One row per collector (--host-id) that has forwarded here.';

CREATE TABLE deployments (
  id             text PRIMARY KEY,
  host           text NOT NULL REFERENCES hosts (host_id),
  name           text,
  slug           text,
  entity_type    text,
  status         text NOT NULL,
  public_url     text,
  registry_url   text,
  entity_id      text,
  public_key     text,
  host_port      integer,
  container_id   text,
  created_at     timestamptz,
  started_at     timestamptz,
  last_exit_code integer,
  last_crash_at  timestamptz,
  error_message  text,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE deployments IS 'The rows of the API (GET /api/deployments) of every host, as last forwarded.';
COMMENT ON COLUMN deployments.host IS 'The collector that follows the deployment (--host-id).';
COMMENT ON COLUMN deployments.host_port IS '127.0.0.1 port on the host.';
COMMENT ON COLUMN deployments.updated_at IS 'When the sink last wrote the row.';
CREATE INDEX deployments_status ON deployments (status);
CREATE INDEX deployments_created_at ON deployments (created_at);
CREATE INDEX deployments_host ON deployments (host);

CREATE TABLE deployment_logs (
  deployment_id text NOT NULL,
  line_no       bigint NOT NULL,
  stream        text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'system')),
  ts            timestamptz NOT NULL,
  text          text NOT NULL,
  truncated     boolean NOT NULL DEFAULT false,
  PRIMARY KEY (deployment_id, line_no)
);
COMMENT ON COLUMN deployment_logs.line_no IS '1, 2, 3, ... per deployment across the three streams, as the host numbered them.';
COMMENT ON COLUMN deployment_logs.ts IS 'When the engine received the line (microseconds).';
COMMENT ON COLUMN deployment_logs.text IS 'The line without its newline; bytes that are not UTF-8 (and NUL) became U+FFFD.';
COMMENT ON COLUMN deployment_logs.truncated IS 'The line was longer than the host''s --max-line-bytes; only its head is here.';
CREATE INDEX deployment_logs_ts ON deployment_logs (deployment_id, ts);

CREATE TABLE deployment_metrics (
  deployment_id text NOT NULL,
  sampled_at    timestamptz NOT NULL,
  cpu_pct       double precision NOT NULL,
  mem_used_mb   integer NOT NULL,
  mem_limit_mb  integer NOT NULL,
  PRIMARY KEY (deployment_id, sampled_at)
);
COMMENT ON COLUMN deployment_metrics.cpu_pct IS 'docker stats'' CPU percentage: 100 = one full core (not a fraction of one CPU).';
COMMENT ON COLUMN deployment_metrics.mem_used_mb IS 'Usage minus inactive file cache, MiB (rounded).';
COMMENT ON COLUMN deployment_metrics.mem_limit_mb IS 'The container''s limit (host memory when it has none), MiB (rounded).';
CREATE INDEX deployment_metrics_sampled_at ON deployment_metrics (sampled_at);

CREATE TABLE forward_cursors (
  host_id            text NOT NULL,
  deployment_id      text NOT NULL,
  last_line_no       bigint NOT NULL DEFAULT 0,
  last_sampled_at_ns bigint NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (host_id, deployment_id)
);
COMMENT ON TABLE forward_cursors IS 'How far each host has forwarded each deployment; written in the same transaction as the rows it covers.';
)SQL"},
    {2, "central mode: stop requests, storage positions and cursors, retention index", R"SQL(
ALTER TABLE deployments ALTER COLUMN host DROP NOT NULL;
ALTER TABLE deployments ADD COLUMN stop_requested_at timestamptz;
ALTER TABLE deployments ADD COLUMN stop_requested_by text;
ALTER TABLE deployments ADD COLUMN stop_handled_at timestamptz;
COMMENT ON COLUMN deployments.stop_requested_at IS 'A central DELETE: the owning host stops the deployment while stop_handled_at is older.';
COMMENT ON COLUMN deployments.stop_handled_at IS 'The stop_requested_at the owning host has acted on.';
CREATE INDEX deployments_stop_pending ON deployments (host) WHERE stop_requested_at IS NOT NULL;
CREATE INDEX deployment_logs_ts_all ON deployment_logs (ts);

CREATE TABLE log_positions (
  deployment_id text PRIMARY KEY,
  next_line_no  bigint NOT NULL
);
COMMENT ON TABLE log_positions IS 'The next lineNo of deployments whose lines are appended through storage_postgres (not a sink).';

CREATE TABLE log_cursors (
  deployment_id text NOT NULL,
  key           text NOT NULL,
  value         bytea NOT NULL,
  PRIMARY KEY (deployment_id, key)
);
COMMENT ON TABLE log_cursors IS 'Runtime resume cursors stored through storage_postgres, written with the lines they cover.';
)SQL"},
};

}  // namespace

int latestSchemaVersion() noexcept { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> migrate(PgConnection& conn) {
  ZC_RETURN_IF_ERROR(conn.run("BEGIN"));
  auto body = [&]() -> Result<int> {
    ZC_RETURN_IF_ERROR(conn.run(std::string("SELECT pg_advisory_xact_lock(") + kMigrationLockKey + ")"));
    ZC_RETURN_IF_ERROR(conn.run(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"));
    ZC_ASSIGN_OR_RETURN(PgResult r, conn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    const int found = static_cast<int>(r.integer(0, 0));
    if (found > latestSchemaVersion()) {
      return Status::failedPrecondition(
          "postgres: the database's schema is version " + std::to_string(found) +
          ", newer than this collector's " + std::to_string(latestSchemaVersion()) +
          "; refusing to write to it (upgrade the collector)");
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= found) continue;
      ZC_RETURN_IF_ERROR(conn.script(m.sql));
      ZC_RETURN_IF_ERROR(conn.run("INSERT INTO schema_migrations (version, description) VALUES ($1, $2)",
                                  {std::to_string(m.version), std::string(m.description)}));
    }
    return found;
  };
  Result<int> found = body();
  if (!found.isOk()) {
    (void)conn.run("ROLLBACK");
    return found.status();
  }
  ZC_RETURN_IF_ERROR(conn.run("COMMIT"));
  return found;
}

}  // namespace zc::pg
