// Searching a deployment's whole stored log, and finding a line by time, for
// GET /api/deployments/{id}/logs?q=...&regex=...&stream=...&before=...&fromTs=... (query.h).
//
// A search scans stored lines in lineNo order from `since` forward, or from below `before`
// backward, and returns the lines that match (in ascending lineNo order either way): at most
// `limit` of them, at most maxPageBytes of JSON, and after at most kMaxScanLines lines or
// kMaxScanBytes of text scanned. The response says where the scan stopped (`nextSince` or
// `nextBefore`, to continue from), how many lines it scanned and whether it reached the end of
// the log (`done`). So a request costs bounded time and memory whatever the log's size.
//
// Matching: `q` is a substring compared without ASCII case (bytes beyond ASCII compare as they
// are); with `regex`, an RE2 pattern (linear time, no backtracking), also case-insensitive
// unless the pattern says `(?-i)`. `stream` keeps only the streams listed.
//
// Time: fromTs finds the first line at or after a time by binary search over lineNos (a few
// dozen point reads, not a scan). It relies on ts growing with lineNo, which holds for a
// deployment's log up to the interleaving of stdout and stderr within a few milliseconds.
//
// Thread-safety: a LineMatcher is immutable once made and may be shared; the functions read
// storage through the CollectorApi and hold no state.
#pragma once

#include <memory>
#include <string>

#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"
#include "zc/host/collector_api.h"

namespace re2 {
class RE2;
}

namespace zc::exporters {

inline constexpr size_t kMaxScanLines = 200'000;
inline constexpr size_t kMaxScanBytes = 64u << 20;

class LineMatcher {
 public:
  // InvalidArgument naming the problem for a pattern RE2 refuses.
  static Result<LineMatcher> make(const LogQuery& q);
  bool matches(const LogLine& line) const noexcept;

 private:
  std::string needle_;                    // lower-cased; empty = every line (streams only)
  std::shared_ptr<const re2::RE2> re_;    // set with `regex`
  uint8_t streams_ = 0;                   // as LogQuery::streams
};

// Writes the search's JSON object into `w`: lines, nextSince or nextBefore, oldestLineNo,
// scanned, done. A storage failure is returned as it is (the handler maps it).
Status writeSearchPage(JsonWriter& w, host::CollectorApi& api, const std::string& id,
                       const LogQuery& q, const LineMatcher& matcher, size_t maxPageBytes);

// The `since` that starts a page at the first line with ts >= t: that line's lineNo - 1, or the
// last lineNo when no line is that recent (an empty page that continues with new lines).
Result<uint64_t> sinceForTime(host::CollectorApi& api, const std::string& id, TimeNs t);

}  // namespace zc::exporters
