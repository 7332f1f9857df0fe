// The central schema of the PostgreSQL sink and its migrations.
//
// Versioned: the table schema_migrations holds one row per applied migration. migrate() applies
// the missing ones in one transaction under a transaction-level advisory lock, so several
// collectors starting at once against one database migrate it exactly once (the others wait,
// then find nothing to do). A database whose schema is newer than this collector knows is
// refused (FailedPrecondition) and never altered.
#pragma once

#include "pg_conn.h"

namespace zc::pg {

// The NOTIFY channel a sink signals in the transaction that stores a deployment's lines or row
// (payload: the deployment id); central instances LISTEN on it to wake their live streams.
constexpr const char* kChangesChannel = "zc_changes";

// The newest schema version this build knows.
int latestSchemaVersion() noexcept;

// Brings the schema to latestSchemaVersion(). Returns the version found before (0 = empty).
Result<int> migrate(PgConnection& conn);

}  // namespace zc::pg
