// TimestampParser::parsePrefix, the hand-written fixed-width fast path with its day cache,
// against zc::parseRfc3339 (the general parser it must agree with).
//
// Input: "<warm-up text>\n<text>" (no '\n': the whole input is the text, no warm-up).
// Checks: a warmed parser (its day cache filled from the warm-up text) and a fresh one give the
// same answer; on success the prefix is within the input and ends with the space, and the
// timestamp equals parseRfc3339 of the prefix without the space (so the fast path accepts
// nothing the general parser refuses, and reads the same instant).
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "timestamp_parser.h"

using zc::TimeNs;
using zc::docker::TimestampParser;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view warm, text = in;
  if (size_t nl = in.find('\n'); nl != std::string_view::npos) {
    warm = in.substr(0, nl);
    text = in.substr(nl + 1);
  }
  // Copies so that ASan sees reads past the end of exactly the bytes handed over.
  std::string warmCopy(warm), textCopy(text);

  TimestampParser warmed;
  TimeNs t0;
  size_t p0;
  (void)warmed.parsePrefix(warmCopy.data(), warmCopy.size(), &t0, &p0);

  TimestampParser fresh;
  TimeNs t1 = 0, t2 = 0;
  size_t p1 = 0, p2 = 0;
  bool ok1 = fresh.parsePrefix(textCopy.data(), textCopy.size(), &t1, &p1);
  bool ok2 = warmed.parsePrefix(textCopy.data(), textCopy.size(), &t2, &p2);
  FUZZ_CHECK(ok1 == ok2 && (!ok1 || (t1 == t2 && p1 == p2)),
             "day cache changes the result for '%s' after '%s'", textCopy.c_str(), warmCopy.c_str());
  if (!ok1) return 0;
  FUZZ_CHECK(p1 >= 2 && p1 <= textCopy.size() && textCopy[p1 - 1] == ' ',
             "prefix length %zu for input of %zu", p1, textCopy.size());
  std::string_view ts(textCopy.data(), p1 - 1);
  auto general = zc::parseRfc3339(ts);
  FUZZ_CHECK(general.isOk(), "prefix '%.*s' accepted, parseRfc3339 refuses it: %s",
             static_cast<int>(ts.size()), ts.data(), general.status().message().c_str());
  FUZZ_CHECK(*general == t1, "prefix '%.*s' read as %lld, parseRfc3339 says %lld",
             static_cast<int>(ts.size()), ts.data(), static_cast<long long>(t1),
             static_cast<long long>(*general));
  return 0;
}
