#include "zc/exporters/query.h"

#include <limits>

#include "zc/exporters/json_writer.h"

namespace zc::exporters {
namespace {

int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The parameter's value quoted for an error message (sanitised, shortened).
std::string quoted(std::string_view v) {
  constexpr size_t kMax = 40;
  std::string shown = sanitizeUtf8(v.substr(0, kMax));
  return "'" + shown + (v.size() > kMax ? "...'" : "'");
}

// Finds `since` / `after` in `params`: nullopt when neither is given.
Result<std::optional<uint64_t>> sinceParam(const std::vector<QueryParam>& params) {
  std::optional<uint64_t> since;
  std::string seenAs;
  for (const auto& p : params) {
    if (p.name != "since" && p.name != "after") continue;
    auto v = parseUnsignedDecimal(p.value);
    if (!v.isOk()) {
      return Status::invalidArgument(
          "parameter '" + p.name + "' must be a lineNo (unsigned decimal), got " + quoted(p.value));
    }
    if (since) {
      if (seenAs == p.name)
        return Status::invalidArgument("parameter '" + p.name + "' is given twice");
      if (*since != *v) {
        return Status::invalidArgument(
            "parameters 'since' and 'after' are the same cursor and disagree");
      }
    }
    since = *v;
    seenAs = p.name;
  }
  return since;
}

Status checkOnce(const std::vector<QueryParam>& params, std::string_view name) {
  int n = 0;
  for (const auto& p : params) n += p.name == name;
  if (n > 1) return Status::invalidArgument("parameter '" + std::string(name) + "' is given twice");
  return Status::ok();
}

// A flag parameter: 1/true or 0/false; `*out` unchanged when absent.
Status boolParam(const std::vector<QueryParam>& params, std::string_view name, bool* out);

const QueryParam* findParam(const std::vector<QueryParam>& params, std::string_view name) {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Status boolParam(const std::vector<QueryParam>& params, std::string_view name, bool* out) {
  const QueryParam* p = findParam(params, name);
  if (p == nullptr) return Status::ok();
  if (p->value == "1" || p->value == "true") {
    *out = true;
  } else if (p->value == "0" || p->value == "false") {
    *out = false;
  } else {
    return Status::invalidArgument("parameter '" + std::string(name) +
                                   "' must be 1, true, 0 or false, got " + quoted(p->value));
  }
  return Status::ok();
}

}  // namespace

std::string_view rawQueryOf(std::string_view target) noexcept {
  size_t q = target.find('?');
  return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
}

Result<std::string> percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= s.size()) {
      return Status::invalidArgument("truncated percent-escape");
    }
    int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return Status::invalidArgument("malformed percent-escape");
    char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '\0') return Status::invalidArgument("percent-escape decodes to NUL");
    out.push_back(decoded);
    i += 2;
  }
  return out;
}

Result<std::vector<QueryParam>> parseQueryString(std::string_view raw) {
  std::vector<QueryParam> out;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view pair = raw.substr(i, amp - i);
    i = amp + 1;
    if (pair.empty()) continue;
    if (out.size() == kMaxQueryParams) {
      return Status::invalidArgument("more than " + std::to_string(kMaxQueryParams) +
                                     " query parameters");
    }
    size_t eq = pair.find('=');
    std::string_view rawName = pair.substr(0, eq);
    std::string_view rawValue =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto name = percentDecode(rawName);
    if (!name.isOk())
      return Status::invalidArgument("query parameter name: " + name.status().message());
    if (name->empty()) return Status::invalidArgument("query parameter without a name");
    auto value = percentDecode(rawValue);
    if (!value.isOk()) {
      return Status::invalidArgument("query parameter '" + sanitizeUtf8(*name) +
                                     "': " + value.status().message());
    }
    out.push_back(QueryParam{std::move(name).value(), std::move(value).value()});
  }
  return out;
}

Result<uint64_t> parseUnsignedDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return Status::invalidArgument("not an unsigned decimal");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::invalidArgument("not an unsigned decimal");
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return Status::invalidArgument("out of range");
    }
    v = v * 10 + d;
  }
  return v;
}

Result<LogQuery> parseLogQuery(std::string_view rawQuery) {
  ZC_ASSIGN_OR_RETURN(std::vector<QueryParam> params, parseQueryString(rawQuery));
  LogQuery q;
  ZC_ASSIGN_OR_RETURN(std::optional<uint64_t> since, sinceParam(params));
  if (since) q.since = *since;
  ZC_RETURN_IF_ERROR(checkOnce(params, "limit"));
  if (const QueryParam* p = findParam(params, "limit")) {
    auto v = parseUnsignedDecimal(p->value);
    if (!v.isOk() || *v < 1 || *v > kMaxLogLimit) {
      return Status::invalidArgument("parameter 'limit' must be an integer from 1 to " +
                                     std::to_string(kMaxLogLimit) + ", got " + quoted(p->value));
    }
    q.limit = static_cast<size_t>(*v);
  }
  for (std::string_view name : {"q", "regex", "stream", "before", "fromTs"}) {
    ZC_RETURN_IF_ERROR(checkOnce(params, name));
  }
  if (const QueryParam* p = findParam(params, "q")) {
    if (p->value.empty() || p->value.size() > kMaxSearchPatternBytes) {
      return Status::invalidArgument("parameter 'q' must be 1 to " +
                                     std::to_string(kMaxSearchPatternBytes) + " bytes long");
    }
    q.text = p->value;
  }
  ZC_RETURN_IF_ERROR(boolParam(params, "regex", &q.regex));
  if (q.regex && !q.text) return Status::invalidArgument("parameter 'regex' needs 'q'");
  if (const QueryParam* p = findParam(params, "stream")) {
    std::string_view rest = p->value;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      auto s = parseLogStream(name);
      if (!s) {
        return Status::invalidArgument(
            "parameter 'stream' must list stdout, stderr or system (comma-separated), got " +
            quoted(p->value));
      }
      q.streams |= static_cast<uint8_t>(1u << static_cast<unsigned>(*s));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (const QueryParam* p = findParam(params, "before")) {
    auto v = parseUnsignedDecimal(p->value);
    if (!v.isOk() || *v < 1) {
      return Status::invalidArgument("parameter 'before' must be a lineNo of at least 1, got " +
                                     quoted(p->value));
    }
    q.before = *v;
  }
  if (const QueryParam* p = findParam(params, "fromTs")) {
    ZC_ASSIGN_OR_RETURN(TimeNs t, parseTimeParam("fromTs", p->value));
    q.fromTs = t;
  }
  if (int cursors = (since ? 1 : 0) + (q.before ? 1 : 0) + (q.fromTs ? 1 : 0); cursors > 1) {
    return Status::invalidArgument("give at most one of 'since', 'before' and 'fromTs'");
  }
  return q;
}

Result<DownloadQuery> parseDownloadQuery(std::string_view rawQuery) {
  ZC_ASSIGN_OR_RETURN(std::vector<QueryParam> params, parseQueryString(rawQuery));
  DownloadQuery q;
  ZC_ASSIGN_OR_RETURN(std::optional<uint64_t> since, sinceParam(params));
  if (since) q.since = *since;
  ZC_RETURN_IF_ERROR(checkOnce(params, "format"));
  ZC_RETURN_IF_ERROR(checkOnce(params, "until"));
  if (const QueryParam* p = findParam(params, "format")) {
    if (p->value == "ndjson") {
      q.ndjson = true;
    } else if (p->value != "text") {
      return Status::invalidArgument("parameter 'format' must be text or ndjson, got " +
                                     quoted(p->value));
    }
  }
  if (const QueryParam* p = findParam(params, "until")) {
    auto v = parseUnsignedDecimal(p->value);
    if (!v.isOk()) {
      return Status::invalidArgument("parameter 'until' must be a lineNo (unsigned decimal), got " +
                                     quoted(p->value));
    }
    q.until = *v;
  }
  return q;
}

Result<TimeNs> parseTimeParam(std::string_view name, std::string_view value) {
  std::string what = "parameter '" + std::string(name) + "'";
  bool digitsOnly = !value.empty();
  for (char c : value) digitsOnly = digitsOnly && c >= '0' && c <= '9';
  if (digitsOnly) {
    auto ms = parseUnsignedDecimal(value);
    constexpr uint64_t kMaxMs =
        static_cast<uint64_t>(std::numeric_limits<TimeNs>::max() / 1'000'000);
    if (!ms.isOk() || *ms > kMaxMs) {
      return Status::invalidArgument(what + ": Unix milliseconds out of range, got " +
                                     quoted(value));
    }
    return static_cast<TimeNs>(*ms) * 1'000'000;
  }
  auto t = parseRfc3339(value);
  if (!t.isOk()) {
    return Status::invalidArgument(what + " must be RFC 3339 or Unix milliseconds, got " +
                                   quoted(value));
  }
  return *t;
}

Result<TimeRange> parseMetricsQuery(std::string_view rawQuery, TimeNs now) {
  ZC_ASSIGN_OR_RETURN(std::vector<QueryParam> params, parseQueryString(rawQuery));
  ZC_RETURN_IF_ERROR(checkOnce(params, "from"));
  ZC_RETURN_IF_ERROR(checkOnce(params, "to"));
  TimeRange r;
  r.to = now;
  if (const QueryParam* p = findParam(params, "to")) {
    ZC_ASSIGN_OR_RETURN(r.to, parseTimeParam("to", p->value));
  }
  if (const QueryParam* p = findParam(params, "from")) {
    ZC_ASSIGN_OR_RETURN(r.from, parseTimeParam("from", p->value));
  } else {
    r.from = r.to > std::numeric_limits<TimeNs>::min() + kDefaultMetricsWindowNs
                 ? r.to - kDefaultMetricsWindowNs
                 : std::numeric_limits<TimeNs>::min();
  }
  if (r.from > r.to) return Status::invalidArgument("parameter 'from' is after 'to'");
  return r;
}

Result<StreamQuery> parseStreamQuery(std::string_view rawQuery) {
  ZC_ASSIGN_OR_RETURN(std::vector<QueryParam> params, parseQueryString(rawQuery));
  StreamQuery q;
  ZC_ASSIGN_OR_RETURN(q.since, sinceParam(params));
  ZC_RETURN_IF_ERROR(checkOnce(params, "batch"));
  ZC_RETURN_IF_ERROR(boolParam(params, "batch", &q.batch));
  return q;
}

Result<uint64_t> parseLastEventId(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t'))
    header.remove_suffix(1);
  auto v = parseUnsignedDecimal(header);
  if (!v.isOk()) {
    return Status::invalidArgument("header 'Last-Event-ID' must be a lineNo, got " +
                                   quoted(header));
  }
  return v;
}

}  // namespace zc::exporters
