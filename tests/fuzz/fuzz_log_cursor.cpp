// LogCursor::decode on arbitrary text, and the round trip back through encode().
//
// Checks: decode never crashes; a decoded cursor re-encodes to a text that decodes to the same
// cursor, and re-encoding that is stable (encode(decode(encode(c))) == encode(c)); the empty
// cursor encodes to ""; sinceNs() is >= 0 and no later than any non-zero time in the cursor;
// formatSince() of it is "<seconds>.<9 digits>" for the same instant; a LineAssembler reset to the
// cursor reports it back with the pending times and the file part cleared.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "line_assembler.h"
#include "log_cursor.h"

using zc::TimeNs;
using zc::docker::LogCursor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = LogCursor::decode(text);
  if (!r.isOk()) {
    FUZZ_CHECK(!text.empty(), "the empty text must decode");
    return 0;
  }
  const LogCursor c = *r;
  std::string enc = c.encode();
  FUZZ_CHECK(c.empty() == enc.empty(), "empty() %d but encode() '%s'", c.empty(), enc.c_str());
  auto again = LogCursor::decode(enc);
  FUZZ_CHECK(again.isOk(), "'%s' (from '%s') does not decode: %s", enc.c_str(),
             zc::fuzz::hexPreview(text).c_str(), again.status().message().c_str());
  FUZZ_CHECK(*again == c, "'%s' decodes to another cursor", enc.c_str());
  FUZZ_CHECK(again->encode() == enc, "encoding not stable: '%s' vs '%s'", enc.c_str(),
             again->encode().c_str());

  for (int64_t margin : {int64_t{0}, int64_t{1}, int64_t{5'000'000'000}, INT64_MAX}) {
    TimeNs since = c.sinceNs(margin);
    FUZZ_CHECK(since >= 0, "negative since");
    for (TimeNs t : {c.out.lastTs, c.out.pendingTs, c.err.lastTs, c.err.pendingTs}) {
      FUZZ_CHECK(t == 0 || since <= t, "since %lld after %lld", static_cast<long long>(since),
                 static_cast<long long>(t));
    }
    std::string f = zc::docker::formatSince(since);
    long long secs = -1, nanos = -1;
    int used = 0;
    FUZZ_CHECK(std::sscanf(f.c_str(), "%lld.%lld%n", &secs, &nanos, &used) == 2 &&
                   static_cast<size_t>(used) == f.size() && f.size() >= 11 &&
                   f[f.size() - 10] == '.' && secs * 1'000'000'000 + nanos == since,
               "formatSince(%lld) = '%s'", static_cast<long long>(since), f.c_str());
  }

  zc::docker::LineAssembler a(zc::docker::LineAssembler::Options{});
  a.reset(c);
  LogCursor want = c;
  want.out.pendingTs = want.err.pendingTs = 0;
  want.file.reset();  // only the file follower sets a file part
  FUZZ_CHECK(a.cursor() == want, "reset(cursor) then cursor() is '%s', want '%s'",
             a.cursor().encode().c_str(), want.encode().c_str());
  return 0;
}
