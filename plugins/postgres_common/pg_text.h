// Small pure helpers of the PostgreSQL sink: what goes into a text column, how a connection is
// named in a log line, how times become timestamptz. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include <vector>

#include "zc/model.h"
#include "zc/plugin/options.h"
#include "zc/status.h"

namespace zc::pg {

// `text` as valid UTF-8 without NUL bytes (what a PostgreSQL text column in a UTF8 database
// accepts): every invalid byte sequence and every NUL becomes U+FFFD; valid text is unchanged.
std::string toPgText(std::string_view text);

// The connection string (libpq conninfo or URI) with any password removed, for log lines and
// /healthz: "host=db.example port=5432 dbname=zynd user=collector". Unparsable input gives
// "(unparsable connection string)", never the input itself.
std::string redactConninfo(const std::string& conninfo);

// The `url` and `password_file` plugin options, checked: an empty url or a libpq conninfo/URI
// that libpq parses (the error never repeats the value: it may hold a password), and an empty or
// absolute password_file path. InvalidArgument naming the option otherwise.
Status checkConnectionOptions(const std::string& url, const std::string& passwordFile);

// The connection options both postgres plugins take: url, password_file, connect_timeout,
// statement_timeout (`urlHelp` describes url for that plugin's flag).
std::vector<plugin::OptionSpec> connectionOptionSpecs(const std::string& urlHelp);
struct ConnectionOptions {
  std::string url;
  std::string passwordFile;
  int64_t connectTimeoutS = 5;     // at least 2 (libpq's own floor)
  int64_t statementTimeoutMs = 30000;
};
// Reads and checks them (checkConnectionOptions) from parsed values.
Result<ConnectionOptions> readConnectionOptions(const plugin::OptionValues& v);

// Microseconds since the epoch (timestamptz precision), truncated toward minus infinity.
int64_t toMicros(TimeNs t) noexcept;

}  // namespace zc::pg
