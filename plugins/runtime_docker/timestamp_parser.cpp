#include "timestamp_parser.h"

#include <cstring>
#include <string_view>

namespace zc::docker {
namespace {

constexpr size_t kFixedLen = 30;  // 2026-11-28T00:37:05.054966693Z
constexpr size_t kMaxPrefix = 64;

inline bool digits(const char* p, int n, int64_t* out) noexcept {
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

int64_t daysInMonth(int64_t y, int64_t m) noexcept {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) noexcept {
  // Howard Hinnant's algorithm.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool TimestampParser::parsePrefix(const char* p, size_t n, TimeNs* ts, size_t* prefixLen) noexcept {
  // The fast path takes only what it can compute without overflow and without calendar
  // doubt: years 1678-2261 (the int64 nanosecond range), real days of the month, seconds 0-59.
  // Everything else (leap seconds, other years, other shapes) goes to parseRfc3339, the
  // reference, which checks all of it.
  if (n > kFixedLen && p[kFixedLen] == ' ' && p[4] == '-' && p[7] == '-' && p[10] == 'T' &&
      p[13] == ':' && p[16] == ':' && p[19] == '.' && p[29] == 'Z') {
    int64_t days = -1;
    if (cachedDays_ >= 0 && std::memcmp(cachedDate_, p, 10) == 0) {
      days = cachedDays_;
    } else {
      int64_t y, mo, d;
      if (digits(p, 4, &y) && digits(p + 5, 2, &mo) && digits(p + 8, 2, &d) && y >= 1678 &&
          y <= 2261 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo)) {
        days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
        std::memcpy(cachedDate_, p, 10);
        cachedDays_ = days;
      }
    }
    int64_t h, mi, s, frac;
    if (days >= 0 && digits(p + 11, 2, &h) && digits(p + 14, 2, &mi) && digits(p + 17, 2, &s) &&
        digits(p + 20, 9, &frac) && h <= 23 && mi <= 59 && s <= 59) {
      *ts = ((days * 86400 + h * 3600 + mi * 60 + s) * kNanosPerSecond) + frac;
      *prefixLen = kFixedLen + 1;
      return true;
    }
  }
  const void* sp = std::memchr(p, ' ', n < kMaxPrefix ? n : kMaxPrefix);
  if (sp == nullptr) return false;
  size_t len = static_cast<const char*>(sp) - p;
  auto r = parseRfc3339(std::string_view(p, len));
  if (!r.isOk()) return false;
  *ts = r.value();
  *prefixLen = len + 1;
  return true;
}

}  // namespace zc::docker
