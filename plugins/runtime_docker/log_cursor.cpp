#include "log_cursor.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace zc::docker {
namespace {

constexpr std::string_view kPrefix = "v1-";

bool parseU64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string LogCursor::encode() const {
  if (empty()) return {};
  char buf[160];
  int n = std::snprintf(buf, sizeof buf, "v1-%lld-%u-%lld-%lld-%u-%lld",
                        static_cast<long long>(out.lastTs), out.count,
                        static_cast<long long>(out.pendingTs), static_cast<long long>(err.lastTs),
                        err.count, static_cast<long long>(err.pendingTs));
  return std::string(buf, static_cast<size_t>(n));
}

Result<LogCursor> LogCursor::decode(std::string_view text) {
  LogCursor c;
  if (text.empty()) return c;
  auto bad = [&](const char* why) {
    std::string shown(text.substr(0, 80));
    for (char& ch : shown) {
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
    }
    return Status::invalidArgument("malformed docker log cursor '" + shown + "': " + why);
  };
  if (text.size() > 200) return bad("too long");
  if (text.substr(0, kPrefix.size()) != kPrefix) return bad("unknown version");
  std::string_view rest = text.substr(kPrefix.size());
  uint64_t v[6];
  for (int i = 0; i < 6; ++i) {
    size_t dash = rest.find('-');
    std::string_view field = i == 5 ? rest : rest.substr(0, dash);
    if (i < 5 && dash == std::string_view::npos) return bad("too few fields");
    if (!parseU64(field, v[i])) return bad("field is not a decimal number");
    rest = i == 5 ? std::string_view() : rest.substr(dash + 1);
  }
  constexpr uint64_t kMaxTs = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (v[0] > kMaxTs || v[2] > kMaxTs || v[3] > kMaxTs || v[5] > kMaxTs) return bad("time out of range");
  if (v[1] > std::numeric_limits<uint32_t>::max() || v[4] > std::numeric_limits<uint32_t>::max()) {
    return bad("count out of range");
  }
  c.out = {static_cast<TimeNs>(v[0]), static_cast<uint32_t>(v[1]), static_cast<TimeNs>(v[2])};
  c.err = {static_cast<TimeNs>(v[3]), static_cast<uint32_t>(v[4]), static_cast<TimeNs>(v[5])};
  if ((c.out.lastTs == 0) != (c.out.count == 0) || (c.err.lastTs == 0) != (c.err.count == 0)) {
    return bad("a count needs a time and a time needs a count");
  }
  return c;
}

TimeNs LogCursor::sinceNs(int64_t marginNs) const noexcept {
  TimeNs m = std::numeric_limits<TimeNs>::max();
  for (TimeNs t : {out.lastTs, out.pendingTs, err.lastTs, err.pendingTs}) {
    if (t > 0) m = std::min(m, t);
  }
  if (m == std::numeric_limits<TimeNs>::max()) return 0;
  return m > marginNs ? m - marginNs : 0;
}

std::string formatSince(TimeNs t) {
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(t / kNanosPerSecond),
                        static_cast<long long>(t % kNanosPerSecond));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace zc::docker
