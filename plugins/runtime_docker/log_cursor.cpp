#include "log_cursor.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace zc::docker {
namespace {

constexpr std::string_view kPrefixV1 = "v1-";
constexpr std::string_view kPrefixV2 = "v2-";

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
  char buf[400];
  int n = std::snprintf(buf, sizeof buf, "v%d-%lld-%u-%lld-%lld-%u-%lld", file ? 2 : 1,
                        static_cast<long long>(out.lastTs), out.count,
                        static_cast<long long>(out.pendingTs), static_cast<long long>(err.lastTs),
                        err.count, static_cast<long long>(err.pendingTs));
  if (file) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n),
                       "-%llu-%llu-%u-%llu-%llu-%u-%u", static_cast<unsigned long long>(file->dev),
                       static_cast<unsigned long long>(file->ino), file->headLen,
                       static_cast<unsigned long long>(file->headHash),
                       static_cast<unsigned long long>(file->offset), file->skipOut, file->skipErr);
  }
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
  if (text.size() > 400) return bad("too long");
  int fields;
  if (text.substr(0, kPrefixV1.size()) == kPrefixV1) {
    fields = 6;
  } else if (text.substr(0, kPrefixV2.size()) == kPrefixV2) {
    fields = 13;
  } else {
    return bad("unknown version");
  }
  std::string_view rest = text.substr(kPrefixV1.size());
  uint64_t v[13];
  for (int i = 0; i < fields; ++i) {
    const bool last = i == fields - 1;
    size_t dash = rest.find('-');
    std::string_view field = last ? rest : rest.substr(0, dash);
    if (!last && dash == std::string_view::npos) return bad("too few fields");
    if (!parseU64(field, v[i])) return bad("field is not a decimal number");
    rest = last ? std::string_view() : rest.substr(dash + 1);
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
  if (fields == 13) {
    constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
    if (v[8] > 4096) return bad("file head length out of range");
    if (v[11] > kU32 || v[12] > kU32) return bad("skip count out of range");
    if (v[10] > kMaxTs) return bad("file offset out of range");
    c.file = FileCursor{v[6], v[7], static_cast<uint32_t>(v[8]), v[9], v[10],
                        static_cast<uint32_t>(v[11]), static_cast<uint32_t>(v[12])};
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
