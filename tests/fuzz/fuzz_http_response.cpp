// HttpResponseReader (the incremental HTTP/1.1 response parser under the log and events
// streams): the same response fed whole and in slices chosen by the input.
//
// Input: [slice seed x3][flags] then the response bytes. Flags bit 0 puts a header line before
// the input's own headers that brings the head close to the 64 KiB limit (the second control
// byte sets how close), so the limit is reached with short inputs.
// Checks: the result does not depend on the slicing (head accepted or refused, status, body
// bytes, body error, complete(), atEof()); feedHead never reports more consumed than it was
// given; a body delimited by Content-Length never yields more than that length; 1xx/204/304 have
// no body.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http_stream.h"

using zc::docker::HttpResponseReader;

namespace {

struct Outcome {
  bool headOk = true;
  bool headDone = false;
  int status = 0;
  std::string body;
  bool bodyOk = true;
  bool complete = false;
  bool eofOk = false;
  bool operator==(const Outcome&) const = default;
};

// Feeds `in` in slices from `rng` (whole when rng is null).
Outcome feed(std::string_view in, zc::fuzz::Rng* rng) {
  Outcome o;
  HttpResponseReader r;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t len = rng ? rng->sliceLen(in.size() - pos) : in.size() - pos;
    const char* p = in.data() + pos;
    pos += len;
    size_t off = 0;
    if (!r.headComplete()) {
      size_t consumed = SIZE_MAX;
      zc::Status st = r.feedHead(p, len, &consumed);
      if (!st.isOk()) {
        o.headOk = false;
        return o;
      }
      FUZZ_CHECK(consumed <= len, "feedHead consumed %zu of %zu", consumed, len);
      FUZZ_CHECK(r.headComplete() || consumed == len, "head incomplete but %zu of %zu consumed",
                 consumed, len);
      if (!r.headComplete()) continue;
      off = consumed;
    }
    zc::Status st = r.feedBody(p + off, len - off, [&](const char* b, size_t n) {
      FUZZ_CHECK(b >= p + off && b + n <= p + len, "body piece outside the slice");
      o.body.append(b, n);
      return true;
    });
    if (!st.isOk()) {
      o.bodyOk = false;
      break;
    }
  }
  o.headDone = r.headComplete();
  o.status = r.status();
  o.complete = r.complete();
  o.eofOk = r.atEof().isOk();
  if (o.headDone && o.bodyOk) {
    int s = o.status;
    if (s == 204 || s == 304 || (s >= 100 && s < 200)) {
      FUZZ_CHECK(o.body.empty() && o.complete, "status %d with a body", s);
    }
    std::string te = r.header("Transfer-Encoding"), cl = r.header("Content-Length");
    if (te.empty() && !cl.empty() && s >= 200 && s != 204 && s != 304) {
      unsigned long long want = std::stoull(cl);  // the reader accepted it as digits
      FUZZ_CHECK(o.body.size() <= want, "%zu body bytes for Content-Length %llu", o.body.size(),
                 want);
      FUZZ_CHECK(o.complete == (o.body.size() == want), "complete() %d with %zu of %llu bytes",
                 o.complete, o.body.size(), want);
    }
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 4);
  std::string in(ctl.rest);
  if ((ctl.b[3] & 1) && in.find("\r\n") != std::string::npos) {
    // "X-Pad: aaaa...\r\n" after the status line: heads from 8 bytes over 64 KiB to 247 under.
    size_t eol = in.find("\r\n") + 2;
    size_t pad = 64 * 1024 + 8 - eol - ctl.b[1];
    in.insert(eol, "X-Pad: " + std::string(pad > 9 ? pad - 9 : 0, 'a') + "\r\n");
  }
  Outcome whole = feed(in, nullptr);
  zc::fuzz::Rng rng(ctl.seed());
  Outcome sliced = feed(in, &rng);
  FUZZ_CHECK(whole == sliced,
             "slicing changes the result: head %d/%d status %d/%d body %zu/%zu bodyOk %d/%d "
             "complete %d/%d eof %d/%d",
             whole.headOk, sliced.headOk, whole.status, sliced.status, whole.body.size(),
             sliced.body.size(), whole.bodyOk, sliced.bodyOk, whole.complete, sliced.complete,
             whole.eofOk, sliced.eofOk);
  return 0;
}
