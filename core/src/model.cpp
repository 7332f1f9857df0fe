#include "zc/model.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace zc {
namespace {

bool isIdChar(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Printable, quoted form of untrusted input for error messages (never echoes control bytes).
std::string quoteForMessage(std::string_view s) {
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : s) {
    if (++n > 80) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  out += "'";
  return out;
}

bool parseDigits(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Writes `v` as exactly `width` decimal digits at `p` (v < 10^width).
char* putDigits(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// Formats on every log line served (pages, SSE, downloads): the calendar arithmetic of
// <chrono> and hand-written digits instead of gmtime_r + snprintf, which took a visible share
// of the SSE hub's CPU.
std::string formatWithFraction(TimeNs t, int digits) {
  using namespace std::chrono;
  int64_t secs = t / kNanosPerSecond;
  int64_t nanos = t % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    secs -= 1;
  }
  const sys_seconds at{seconds{secs}};
  const sys_days day = floor<days>(at);
  const year_month_day ymd{day};
  const int64_t sod = (at - day).count();  // seconds of the day, 0..86399
  const int y = static_cast<int>(ymd.year());
  char buf[40];
  char* p = buf;
  if (y < 0 || y > 9999) {  // outside RFC 3339's four digits: as the C library writes them
    p += std::snprintf(buf, 16, "%04d", y);
  } else {
    p = putDigits(p, static_cast<uint64_t>(y), 4);
  }
  *p++ = '-';
  p = putDigits(p, static_cast<unsigned>(ymd.month()), 2);
  *p++ = '-';
  p = putDigits(p, static_cast<unsigned>(ymd.day()), 2);
  *p++ = 'T';
  p = putDigits(p, static_cast<uint64_t>(sod / 3600), 2);
  *p++ = ':';
  p = putDigits(p, static_cast<uint64_t>(sod / 60 % 60), 2);
  *p++ = ':';
  p = putDigits(p, static_cast<uint64_t>(sod % 60), 2);
  *p++ = '.';
  p = digits == 9 ? putDigits(p, static_cast<uint64_t>(nanos), 9)
                  : putDigits(p, static_cast<uint64_t>(nanos / 1000000), 3);
  *p++ = 'Z';
  return std::string(buf, p);
}

}  // namespace

bool isValidDeploymentId(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxDeploymentIdLength) return false;
  for (unsigned char c : id) {
    if (!isIdChar(c)) return false;
  }
  return true;
}

Status validateDeploymentId(std::string_view id) {
  if (isValidDeploymentId(id)) return Status::ok();
  return Status::invalidArgument("deployment id " + quoteForMessage(id) +
                                 " is not 1-64 characters of [A-Za-z0-9_-]");
}

std::string_view toString(DeploymentStatus s) noexcept {
  switch (s) {
    case DeploymentStatus::kRunning: return "running";
    case DeploymentStatus::kUnhealthy: return "unhealthy";
    case DeploymentStatus::kCrashed: return "crashed";
    case DeploymentStatus::kStopped: return "stopped";
  }
  return "running";
}

std::optional<DeploymentStatus> parseDeploymentStatus(std::string_view s) noexcept {
  if (s == "running") return DeploymentStatus::kRunning;
  if (s == "unhealthy") return DeploymentStatus::kUnhealthy;
  if (s == "crashed") return DeploymentStatus::kCrashed;
  if (s == "stopped") return DeploymentStatus::kStopped;
  return std::nullopt;
}

std::string_view toString(LogStream s) noexcept {
  switch (s) {
    case LogStream::kStdout: return "stdout";
    case LogStream::kStderr: return "stderr";
    case LogStream::kSystem: return "system";
  }
  return "stdout";
}

std::optional<LogStream> parseLogStream(std::string_view s) noexcept {
  if (s == "stdout") return LogStream::kStdout;
  if (s == "stderr") return LogStream::kStderr;
  if (s == "system") return LogStream::kSystem;
  return std::nullopt;
}

std::string formatRfc3339Nano(TimeNs t) { return formatWithFraction(t, 9); }
std::string formatRfc3339Millis(TimeNs t) { return formatWithFraction(t, 3); }

Result<TimeNs> parseRfc3339(std::string_view s) {
  auto bad = [&] {
    return Status::invalidArgument("time " + quoteForMessage(s) +
                                   " is not RFC 3339 (e.g. 2026-11-28T00:29:42Z)");
  };
  // YYYY-MM-DDTHH:MM:SS
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || !parseDigits(s, 0, 4, year) || s[4] != '-' || !parseDigits(s, 5, 2, mon) ||
      s[7] != '-' || !parseDigits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !parseDigits(s, 11, 2, hour) || s[13] != ':' || !parseDigits(s, 14, 2, min) || s[16] != ':' ||
      !parseDigits(s, 17, 2, sec)) {
    return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  // A leap second can only be the last second of a UTC day; it is read as the next second.
  if (sec == 60 && !(hour == 23 && min == 59)) return bad();
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return bad();
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int64_t offsetSecs = 0;
  if (pos >= s.size()) return bad();
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!parseDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !parseDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad();
    }
    offsetSecs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  // <chrono>'s calendar, not timegm(): this runs for every line a json-file or CRI log holds.
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(mon)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return bad();  // e.g. Feb 30
  // 23:59:60 is read as the next day's 00:00:00.
  int64_t secs = int64_t{std::chrono::sys_days{date}.time_since_epoch().count()} * 86400 +
                 hour * 3600 + min * 60 + sec;
  int64_t whole = secs - offsetSecs;
  if (whole < 0 && nanos > 0) {  // keeps the intermediate product in range near the minimum
    whole += 1;
    nanos -= kNanosPerSecond;
  }
  int64_t out;  // times outside the int64 nanosecond range (years 1677-2262) are refused
  if (__builtin_mul_overflow(whole, kNanosPerSecond, &out) ||
      __builtin_add_overflow(out, nanos, &out)) {
    return bad();
  }
  return out;
}

Result<int64_t> parseDuration(std::string_view s) {
  auto bad = [&] {
    return Status::invalidArgument("duration " + quoteForMessage(s) +
                                   " is not a positive number with a unit ms, s, m, h or d "
                                   "(e.g. 90s, 7d)");
  };
  size_t digitsEnd = 0;
  while (digitsEnd < s.size() && s[digitsEnd] >= '0' && s[digitsEnd] <= '9') ++digitsEnd;
  if (digitsEnd == 0) return bad();
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + digitsEnd, n);
  if (ec != std::errc() || ptr != s.data() + digitsEnd || n == 0) return bad();
  std::string_view unit = s.substr(digitsEnd);
  int64_t mult;
  if (unit.empty() || unit == "s") mult = kNanosPerSecond;
  else if (unit == "ms") mult = 1'000'000;
  else if (unit == "m") mult = 60 * kNanosPerSecond;
  else if (unit == "h") mult = 3600 * kNanosPerSecond;
  else if (unit == "d") mult = 86400 * kNanosPerSecond;
  else return bad();
  if (n > static_cast<uint64_t>(INT64_MAX / mult)) return bad();
  return static_cast<int64_t>(n) * mult;
}

}  // namespace zc
