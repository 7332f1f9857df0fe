#include "log_search.h"

#include <re2/re2.h>

#include <algorithm>
#include <vector>

#include "api_json.h"

namespace zc::exporters {
namespace {

constexpr size_t kSliceLines = 4096;
constexpr size_t kSliceBytes = 1u << 20;

char lowerAscii(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// `needle` is lower-cased already.
bool containsIgnoringCase(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  const char first = needle.front();
  const char firstUpper = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first;
  const size_t last = hay.size() - needle.size();
  for (size_t i = 0; i <= last; ++i) {
    if (hay[i] != first && hay[i] != firstUpper) continue;
    size_t k = 1;
    while (k < needle.size() && lowerAscii(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return true;
  }
  return false;
}

// Appends `line` to the page unless it would take the JSON past maxPageBytes (the first line of a
// page is always taken). False when the page is full.
bool appendBounded(JsonWriter& w, const LogLine& line, bool first, size_t maxPageBytes) {
  if (!first && w.text().size() + line.text.size() > maxPageBytes) return false;
  const size_t mark = w.text().size();
  writeLogLine(w, line);
  if (!first && w.text().size() > maxPageBytes) {
    w.truncate(mark);
    return false;
  }
  return true;
}

Status searchForward(JsonWriter& w, host::CollectorApi& api, const std::string& id,
                     const LogQuery& q, const LineMatcher& m, size_t maxPageBytes) {
  uint64_t cursor = q.since;
  uint64_t oldest = 0;
  size_t scanned = 0, scannedBytes = 0, found = 0;
  bool done = false, full = false, firstRead = true;
  w.key("lines").beginArray();
  while (!full && !done && scanned < kMaxScanLines && scannedBytes < kMaxScanBytes) {
    const size_t want = std::min(kSliceLines, kMaxScanLines - scanned);
    auto page = api.readLogs(id, cursor, plugin::LogReadLimit(want, kSliceBytes));
    if (!page.isOk()) return page.status();
    if (firstRead) oldest = page->oldestLineNo;
    firstRead = false;
    size_t textBytes = 0;
    for (const auto& l : page->lines) textBytes += l.text.size();
    done = page->lines.size() < want && textBytes < kSliceBytes;
    for (const auto& l : page->lines) {
      if (m.matches(l)) {
        if (!appendBounded(w, l, found == 0, maxPageBytes)) {
          full = true;
          done = false;
          break;
        }
        ++found;
      }
      cursor = l.lineNo;
      ++scanned;
      scannedBytes += l.text.size();
      if (found == q.limit) {
        full = true;
        // The end of the log only if that was its last line.
        done = done && l.lineNo == page->lines.back().lineNo;
        break;
      }
    }
  }
  w.endArray();
  w.key("nextSince").unsignedInteger(cursor);
  w.key("oldestLineNo").unsignedInteger(oldest);
  w.key("scanned").unsignedInteger(scanned);
  w.key("done").boolean(done);
  return Status::ok();
}

Status searchBackward(JsonWriter& w, host::CollectorApi& api, const std::string& id,
                      const LogQuery& q, const LineMatcher& m, size_t maxPageBytes) {
  auto probe = api.readLogs(id, 0, plugin::LogReadLimit(1));
  if (!probe.isOk()) return probe.status();
  const uint64_t oldest = probe->oldestLineNo;
  // Lines below `cursor` are still to be scanned.
  uint64_t cursor = std::min(*q.before, probe->nextLineNo);
  std::vector<LogLine> hits;  // newest first
  size_t scanned = 0, scannedBytes = 0, hitBytes = 0;
  bool full = false;
  while (!full && cursor > oldest && scanned < kMaxScanLines && scannedBytes < kMaxScanBytes) {
    const uint64_t window = std::min<uint64_t>(kSliceLines, kMaxScanLines - scanned);
    const uint64_t from = cursor - oldest > window ? cursor - window : oldest;  // first lineNo read
    auto page = api.readLogs(id, from - 1, plugin::LogReadLimit(cursor - from));
    if (!page.isOk()) return page.status();
    for (auto it = page->lines.rbegin(); it != page->lines.rend(); ++it) {
      if (it->lineNo >= cursor) continue;
      if (m.matches(*it)) {
        if (!hits.empty() && hitBytes + it->text.size() > maxPageBytes) {
          full = true;
          break;
        }
        hitBytes += it->text.size();
        hits.push_back(*it);
      }
      cursor = it->lineNo;
      ++scanned;
      scannedBytes += it->text.size();
      if (hits.size() == q.limit) {
        full = true;
        break;
      }
    }
    if (!full) cursor = from;  // lines missing in the window (expired) are passed over too
  }
  w.key("lines").beginArray();
  bool first = true;
  for (auto it = hits.rbegin(); it != hits.rend(); ++it) {
    if (!appendBounded(w, *it, first, maxPageBytes)) break;
    first = false;
  }
  w.endArray();
  w.key("nextBefore").unsignedInteger(cursor);
  w.key("oldestLineNo").unsignedInteger(oldest);
  w.key("scanned").unsignedInteger(scanned);
  w.key("done").boolean(cursor <= oldest);
  return Status::ok();
}

}  // namespace

Result<LineMatcher> LineMatcher::make(const LogQuery& q) {
  LineMatcher m;
  m.streams_ = q.streams;
  if (q.text && q.regex) {
    RE2::Options opts;
    opts.set_case_sensitive(false);
    opts.set_log_errors(false);
    auto re = std::make_shared<const RE2>(*q.text, opts);
    if (!re->ok()) {
      return Status::invalidArgument("parameter 'q' is not a valid RE2 pattern: " + re->error());
    }
    m.re_ = std::move(re);
  } else if (q.text) {
    m.needle_ = *q.text;
    for (char& c : m.needle_) c = lowerAscii(c);
  }
  return m;
}

bool LineMatcher::matches(const LogLine& line) const noexcept {
  if (streams_ != 0 && (streams_ & (1u << static_cast<unsigned>(line.stream))) == 0) return false;
  if (re_) return RE2::PartialMatch(line.text, *re_);
  return needle_.empty() || containsIgnoringCase(line.text, needle_);
}

Status writeSearchPage(JsonWriter& w, host::CollectorApi& api, const std::string& id,
                       const LogQuery& q, const LineMatcher& matcher, size_t maxPageBytes) {
  w.beginObject();
  Status st = q.before ? searchBackward(w, api, id, q, matcher, maxPageBytes)
                       : searchForward(w, api, id, q, matcher, maxPageBytes);
  if (!st.isOk()) return st;
  w.endObject();
  return Status::ok();
}

Result<uint64_t> sinceForTime(host::CollectorApi& api, const std::string& id, TimeNs t) {
  // The first stored line at or after lineNo n (nullopt past the end).
  auto lineFrom = [&](uint64_t n) -> Result<std::optional<LogLine>> {
    auto page = api.readLogs(id, n - 1, plugin::LogReadLimit(1));
    if (!page.isOk()) return page.status();
    if (page->lines.empty()) return std::optional<LogLine>();
    return std::optional<LogLine>(std::move(page->lines.front()));
  };
  auto probe = api.readLogs(id, 0, plugin::LogReadLimit(1));
  if (!probe.isOk()) return probe.status();
  uint64_t lo = std::max<uint64_t>(probe->oldestLineNo, 1);
  uint64_t hi = probe->nextLineNo;  // "no such line"
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    ZC_ASSIGN_OR_RETURN(std::optional<LogLine> line, lineFrom(mid));
    if (!line || line->ts >= t) {
      hi = mid;
    } else {
      lo = line->lineNo + 1;
    }
  }
  return lo - 1;
}

}  // namespace zc::exporters
