// The core model's parsers: parseRfc3339, parseDuration, isValidDeploymentId /
// validateDeploymentId. Each input is given to all three.
//
// Checks: parseRfc3339 success -> formatRfc3339Nano of the result parses back to the same time,
// and a canonical input (upper-case 'T' and 'Z', 9 fraction digits, no leap second) formats back
// to itself. parseDuration success -> the input is digits and a known unit, and the result is
// positive and the number times the unit exactly. isValidDeploymentId agrees with a direct
// reading of its rule (1-64 of [A-Za-z0-9_-]) and with validateDeploymentId, whose message never
// echoes a control byte or non-ASCII byte.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "zc/model.h"

namespace {

void checkRfc3339(std::string_view s) {
  auto r = zc::parseRfc3339(s);
  if (!r.isOk()) return;
  std::string formatted = zc::formatRfc3339Nano(*r);
  auto back = zc::parseRfc3339(formatted);
  FUZZ_CHECK(back.isOk() && *back == *r, "'%.*s' -> %lld -> '%s' does not parse back",
             static_cast<int>(s.size()), s.data(), static_cast<long long>(*r), formatted.c_str());
  bool canonical = s.size() == 30 && s[10] == 'T' && s[29] == 'Z' && s[19] == '.' &&
                   !(s[17] == '6' && s[18] == '0');
  if (canonical) {
    FUZZ_CHECK(formatted == s, "'%.*s' formats back as '%s'", static_cast<int>(s.size()),
               s.data(), formatted.c_str());
  }
}

void checkDuration(std::string_view s) {
  auto r = zc::parseDuration(s);
  if (!r.isOk()) return;
  size_t d = 0;
  uint64_t n = 0;
  while (d < s.size() && s[d] >= '0' && s[d] <= '9') {
    n = n * 10 + static_cast<uint64_t>(s[d] - '0');  // wraps only for refused inputs
    ++d;
  }
  std::string_view unit = s.substr(d);
  int64_t mult = unit.empty() || unit == "s" ? 1'000'000'000
                 : unit == "ms"              ? 1'000'000
                 : unit == "m"               ? 60'000'000'000
                 : unit == "h"               ? 3'600'000'000'000
                 : unit == "d"               ? 86'400'000'000'000
                                             : 0;
  FUZZ_CHECK(d > 0 && mult != 0, "accepted '%.*s'", static_cast<int>(s.size()), s.data());
  FUZZ_CHECK(*r > 0, "non-positive duration %lld", static_cast<long long>(*r));
  FUZZ_CHECK(static_cast<uint64_t>(*r) / static_cast<uint64_t>(mult) == n && *r % mult == 0,
             "'%.*s' read as %lld", static_cast<int>(s.size()), s.data(),
             static_cast<long long>(*r));
}

void checkDeploymentId(std::string_view s) {
  bool want = !s.empty() && s.size() <= 64;
  for (unsigned char c : s) {
    want = want && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  bool got = zc::isValidDeploymentId(s);
  FUZZ_CHECK(got == want, "isValidDeploymentId('%s') = %d", zc::fuzz::hexPreview(s).c_str(), got);
  zc::Status st = zc::validateDeploymentId(s);
  FUZZ_CHECK(st.isOk() == got, "validateDeploymentId disagrees with isValidDeploymentId");
  for (unsigned char c : st.message()) {
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, "message echoes byte 0x%02x", c);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  checkRfc3339(s);
  checkDuration(s);
  checkDeploymentId(s);
  return 0;
}
