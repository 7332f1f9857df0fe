// Strict parsers for what REST and SSE clients put in query strings and headers.
//
// Each function is pure (no I/O, no clock unless given one) so it can be unit-tested and fuzzed
// on its own. Failures are InvalidArgument with a message that names the parameter; handlers
// answer them with 400.
//
// Rules common to every query string: "name=value" pairs separated by '&'; names and values are
// percent-decoded ('+' stays '+', so an RFC 3339 offset survives unencoded); a malformed escape,
// a decoded NUL, an empty name or more than kMaxQueryParams pairs is an error; a parameter the
// endpoint knows may appear once; parameters an endpoint does not know are ignored (browsers add
// cache busters such as `_=`).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zc/model.h"
#include "zc/status.h"

namespace zc::exporters {

constexpr size_t kMaxQueryParams = 32;
constexpr size_t kDefaultLogLimit = 500;
constexpr size_t kMaxLogLimit = 5000;
constexpr int64_t kDefaultMetricsWindowNs = 3LL * 24 * 3600 * kNanosPerSecond;

struct QueryParam {
  std::string name;
  std::string value;
};

// The query part of a request target: everything after the first '?', or "" when none.
std::string_view rawQueryOf(std::string_view target) noexcept;
// Decodes %XX escapes. InvalidArgument on a truncated or non-hex escape or a decoded NUL.
Result<std::string> percentDecode(std::string_view s);
// Splits and decodes a raw query string (without '?'). Empty pairs ("a=1&&b=2") are skipped.
Result<std::vector<QueryParam>> parseQueryString(std::string_view raw);
// 1 to 20 ASCII digits whose value fits in uint64_t; no sign, no spaces, no other characters.
Result<uint64_t> parseUnsignedDecimal(std::string_view s);

constexpr size_t kMaxSearchPatternBytes = 1000;

// GET /api/deployments/{id}/logs: `since` (or its alias `after`; both may be given only with
// the same value), default 0; `limit` 1..kMaxLogLimit, default kDefaultLogLimit.
// Search (see log_search.h): `q` (1..kMaxSearchPatternBytes bytes: a case-insensitive substring,
// or with `regex` = 1/true an RE2 pattern), `stream` (a comma-separated set of stdout, stderr,
// system), and `before` (a lineNo: scan backward from below it) instead of `since`. `fromTs`
// (Unix ms or RFC 3339) starts at the first line at or after that time, instead of `since` or
// `before`. `regex` without `q` is an error.
struct LogQuery {
  uint64_t since = 0;
  size_t limit = kDefaultLogLimit;
  std::optional<std::string> text;         // q
  bool regex = false;
  uint8_t streams = 0;                     // bit (1 << LogStream) per stream asked; 0 = all
  std::optional<uint64_t> before;          // backward from below this lineNo
  std::optional<TimeNs> fromTs;
  // A search (only matching lines, scanned within a bound) rather than a plain page.
  bool searching() const noexcept { return text.has_value() || streams != 0 || before; }
};
Result<LogQuery> parseLogQuery(std::string_view rawQuery);

// GET /api/deployments/{id}/logs/download: `format` text (default: each line's text and a
// newline) or ndjson (each line as the API's JSON object, one per line); `since` (alias
// `after`) a lineNo, exclusive, default 0; `until` a lineNo, inclusive, default none.
struct DownloadQuery {
  bool ndjson = false;
  uint64_t since = 0;
  std::optional<uint64_t> until;
};
Result<DownloadQuery> parseDownloadQuery(std::string_view rawQuery);

// A time parameter: Unix milliseconds (digits only) or RFC 3339.
Result<TimeNs> parseTimeParam(std::string_view name, std::string_view value);

// GET /api/deployments/{id}/metrics: `from` and `to` (each Unix ms or RFC 3339), inclusive.
// Defaults: to = now, from = to - 3 days. from > to is an error.
struct TimeRange {
  TimeNs from = 0;
  TimeNs to = 0;
};
Result<TimeRange> parseMetricsQuery(std::string_view rawQuery, TimeNs now);

// GET /api/deployments/{id}/logs/stream: optional `since` (alias `after`, same rules as /logs)
// and `batch` (`1`/`true` or `0`/`false`, default false: one `event: lines` per run of lines
// instead of one `event: log` per line; see sse_hub.h).
struct StreamQuery {
  std::optional<uint64_t> since;
  bool batch = false;
};
Result<StreamQuery> parseStreamQuery(std::string_view rawQuery);

// The Last-Event-ID header: a lineNo (surrounding spaces are tolerated).
Result<uint64_t> parseLastEventId(std::string_view header);

}  // namespace zc::exporters
