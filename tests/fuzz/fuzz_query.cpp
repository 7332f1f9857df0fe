// The REST/SSE query-string parsers (exporters/src/query.cpp): each input is given to every
// public parser of zc/exporters/query.h.
//
// Checks: percentDecode success -> no '%' escape left undecoded (output length = input length
// minus two per escape) and no NUL that the input did not hold literally; parseQueryString
// success -> at most kMaxQueryParams pairs, no empty name; parseUnsignedDecimal agrees with a
// direct reading of its rule (1-20 digits, fits in uint64); parseLogQuery success -> limit in
// 1..kMaxLogLimit; parseMetricsQuery success -> from <= to; parseLastEventId agrees with
// parseUnsignedDecimal of the input without surrounding blanks; error messages are valid UTF-8.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "zc/exporters/query.h"

namespace ex = zc::exporters;

namespace {

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n;
  }
  return true;
}

template <typename T>
void checkMessage(const zc::Result<T>& r) {
  if (!r.isOk()) {
    FUZZ_CHECK(validUtf8(r.status().message()), "error message is not UTF-8: %s",
               zc::fuzz::hexPreview(r.status().message(), 200).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  (void)ex::rawQueryOf(s);
  std::string_view raw = ex::rawQueryOf(s);
  FUZZ_CHECK(raw.empty() || (raw.data() > s.data() && raw.data()[-1] == '?'), "rawQueryOf");

  auto dec = ex::percentDecode(s);
  checkMessage(dec);
  if (dec.isOk()) {
    size_t escapes = 0, literalNul = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%') {
        ++escapes;
        i += 2;
      } else if (s[i] == '\0') {
        ++literalNul;
      }
    }
    FUZZ_CHECK(dec->size() == s.size() - 2 * escapes, "decoded %zu bytes from %zu with %zu escapes",
               dec->size(), s.size(), escapes);
    size_t nul = 0;
    for (char c : *dec) nul += c == '\0';
    FUZZ_CHECK(nul == literalNul, "a NUL was decoded from an escape");
  }

  auto params = ex::parseQueryString(s);
  checkMessage(params);
  if (params.isOk()) {
    FUZZ_CHECK(params->size() <= ex::kMaxQueryParams, "%zu params", params->size());
    for (const auto& p : *params) FUZZ_CHECK(!p.name.empty(), "empty name");
  }

  auto u = ex::parseUnsignedDecimal(s);
  bool want = !s.empty() && s.size() <= 20;
  unsigned __int128 v = 0;
  for (char c : s) {
    want = want && c >= '0' && c <= '9';
    if (want) v = v * 10 + static_cast<unsigned>(c - '0');
  }
  want = want && v <= std::numeric_limits<uint64_t>::max();
  FUZZ_CHECK(u.isOk() == want && (!want || *u == static_cast<uint64_t>(v)),
             "parseUnsignedDecimal('%s')", zc::fuzz::hexPreview(s).c_str());

  auto lq = ex::parseLogQuery(s);
  checkMessage(lq);
  if (lq.isOk()) FUZZ_CHECK(lq->limit >= 1 && lq->limit <= ex::kMaxLogLimit, "limit %zu", lq->limit);

  for (zc::TimeNs now : {zc::TimeNs{1'790'000'000'000'000'000}, zc::TimeNs{0},
                         std::numeric_limits<zc::TimeNs>::min(),
                         std::numeric_limits<zc::TimeNs>::max()}) {
    auto mq = ex::parseMetricsQuery(s, now);
    checkMessage(mq);
    if (mq.isOk()) FUZZ_CHECK(mq->from <= mq->to, "from after to");
  }
  auto sq = ex::parseStreamQuery(s);
  checkMessage(sq);
  auto tp = ex::parseTimeParam("t", s);
  checkMessage(tp);

  auto le = ex::parseLastEventId(s);
  checkMessage(le);
  std::string_view t = s;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  auto ue = ex::parseUnsignedDecimal(t);
  FUZZ_CHECK(le.isOk() == ue.isOk() && (!le.isOk() || *le == *ue), "parseLastEventId");
  return 0;
}
