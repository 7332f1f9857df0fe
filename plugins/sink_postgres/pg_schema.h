// The central schema of the PostgreSQL sink and its migrations.
//
// Versioned: the table schema_migrations holds one row per applied migration. migrate() applies
// the missing ones in one transaction under a transaction-level advisory lock, so several
// collectors starting at once against one database migrate it exactly once (the others wait,
// then find nothing to do). A database whose schema is newer than this collector knows is
// refused (FailedPrecondition) and never altered.
#pragma once

#include "pg_conn.h"

namespace zc::pgsink {

// The newest schema version this build knows.
int latestSchemaVersion() noexcept;

// Brings the schema to latestSchemaVersion(). Returns the version found before (0 = empty).
Result<int> migrate(PgConnection& conn);

}  // namespace zc::pgsink
