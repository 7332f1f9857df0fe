// Small pure helpers of the PostgreSQL sink: what goes into a text column, how a connection is
// named in a log line, how times become timestamptz. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "zc/model.h"

namespace zc::pg {

// `text` as valid UTF-8 without NUL bytes (what a PostgreSQL text column in a UTF8 database
// accepts): every invalid byte sequence and every NUL becomes U+FFFD; valid text is unchanged.
std::string toPgText(std::string_view text);

// The connection string (libpq conninfo or URI) with any password removed, for log lines and
// /healthz: "host=db.example port=5432 dbname=zynd user=collector". Unparsable input gives
// "(unparsable connection string)", never the input itself.
std::string redactConninfo(const std::string& conninfo);

// Microseconds since the epoch (timestamptz precision), truncated toward minus infinity.
int64_t toMicros(TimeNs t) noexcept;

}  // namespace zc::pg
