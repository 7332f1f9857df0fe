// The HTTP/1.1 request parser (exporters/src/http_request_parser.cpp): the bytes a client sends,
// parsed as the server's reactor parses them, i.e. again from the start each time more arrive.
//
// Input: [limits][limit scale][slice seed x2] then the request bytes. Bit 7 of the first control
// byte selects the server's default limits; otherwise both control bytes scale small limits
// (request line 1..256 bytes, header section 1..1024 bytes, 0..15 fields, body 0..1023 bytes)
// so every limit is reached with short inputs.
// Checks: a complete head is well formed (method a token of at most 16 bytes, version 1.0 or
// 1.1, target an absolute path of visible ASCII without '#', no more fields than allowed, names
// tokens, values without CR, LF or control bytes other than tab and without surrounding blanks,
// `end` within the input and just after an empty line); refusals carry the statuses and codes of
// the contract (400/414/431 for the head, 400/411/413 for the framing) and a message; an
// accepted body is within maxBodyBytes. Incremental: on every prefix chosen by the slice seed,
// an error is the whole input's error, and a complete head is the whole input's head (same end,
// method, target, fields), so the outcome never depends on how the bytes were split into reads.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "http_request_parser.h"

namespace ex = zc::exporters;

namespace {

bool isTchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 &&
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

ex::RequestLimits limitsOf(const zc::fuzz::Control& c) {
  if (c.b[0] & 0x80) return ex::RequestLimits{};
  ex::RequestLimits l;
  l.maxRequestLineBytes = 1 + (c.b[0] & 0x7f) * 2;
  l.maxHeaderBytes = 1 + c.b[1] * 4;
  l.maxHeaderCount = c.b[1] & 0x0f;
  l.maxBodyBytes = (static_cast<size_t>(c.b[0]) << 3 | (c.b[1] & 7)) & 1023;
  return l;
}

void checkError(const ex::RequestError& e, std::initializer_list<int> allowed) {
  bool ok = false;
  for (int s : allowed) ok = ok || e.status == s;
  FUZZ_CHECK(ok, "unexpected status %d (%s)", e.status, e.code.c_str());
  FUZZ_CHECK(!e.code.empty() && !e.message.empty(), "status %d without code or message", e.status);
}

void checkHead(std::string_view in, const ex::RequestHead& h, const ex::RequestLimits& l) {
  FUZZ_CHECK(h.end >= 2 && h.end <= in.size(), "end %zu of %zu", h.end, in.size());
  FUZZ_CHECK(in[h.end - 1] == '\n', "the head does not end with a line end");
  FUZZ_CHECK(isToken(h.method) && h.method.size() <= 16, "method '%s'",
             zc::fuzz::hexPreview(h.method).c_str());
  FUZZ_CHECK(h.version == "HTTP/1.1" || h.version == "HTTP/1.0", "version '%s'",
             zc::fuzz::hexPreview(h.version).c_str());
  FUZZ_CHECK(!h.target.empty() && h.target.front() == '/', "target '%s'",
             zc::fuzz::hexPreview(h.target).c_str());
  FUZZ_CHECK(h.target.size() <= l.maxRequestLineBytes, "target longer than the line limit");
  for (char c : h.target) {
    auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u > 0x20 && u < 0x7f && u != '#', "byte %02x in the target", u);
  }
  FUZZ_CHECK(h.headers.size() <= l.maxHeaderCount, "%zu fields over %zu", h.headers.size(),
             l.maxHeaderCount);
  size_t bytes = 0;
  for (const auto& [name, value] : h.headers) {
    FUZZ_CHECK(isToken(name), "field name '%s'", zc::fuzz::hexPreview(name).c_str());
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK((u >= 0x20 || u == '\t') && u != 0x7f, "byte %02x in a value", u);
    }
    FUZZ_CHECK(value.empty() || (value.front() != ' ' && value.front() != '\t' &&
                                 value.back() != ' ' && value.back() != '\t'),
               "value not trimmed");
    bytes += name.size() + 1 + value.size();
  }
  FUZZ_CHECK(bytes <= l.maxHeaderBytes, "%zu header bytes over %zu", bytes, l.maxHeaderBytes);
}

bool sameHead(const ex::RequestHead& a, const ex::RequestHead& b) {
  return a.end == b.end && a.method == b.method && a.target == b.target && a.version == b.version &&
         a.headers == b.headers;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 4);
  const ex::RequestLimits limits = limitsOf(ctl);
  std::string in(ctl.rest);
  using State = ex::RequestHead::State;

  ex::RequestHead whole = ex::parseRequestHead(in, limits);
  ex::RequestFraming framing;
  if (whole.state == State::kError) {
    checkError(whole.error, {400, 414, 431});
  } else if (whole.state == State::kDone) {
    checkHead(in, whole, limits);
    framing = ex::frameRequest(whole, limits);
    if (framing.error.status != 0) {
      checkError(framing.error, {400, 411, 413});
    } else {
      FUZZ_CHECK(framing.bodyLen <= limits.maxBodyBytes, "body %zu over %zu", framing.bodyLen,
                 limits.maxBodyBytes);
      if (whole.version == "HTTP/1.0") {
        bool connection = false;
        for (const auto& [name, value] : whole.headers) {
          connection = connection || ex::equalsIgnoreCase(name, "Connection");
        }
        FUZZ_CHECK(connection || !framing.keepAlive, "HTTP/1.0 kept alive without asking");
      }
    }
    // What follows the head (a body, a pipelined request) parses on its own.
    (void)ex::parseRequestHead(std::string_view(in).substr(whole.end), limits);
  }

  // The reactor parses growing prefixes; the outcome must not depend on where reads ended.
  zc::fuzz::Rng rng(ctl.seed());
  size_t len = 0;
  while (len < in.size()) {
    len += 1 + rng.sliceLen(in.size() - len - 1);
    ex::RequestHead part = ex::parseRequestHead(std::string_view(in).substr(0, len), limits);
    if (part.state == State::kError) {
      FUZZ_CHECK(whole.state == State::kError && whole.error.status == part.error.status &&
                     whole.error.code == part.error.code,
                 "prefix of %zu bytes refused with %d, the whole input gives %d", len,
                 part.error.status, whole.error.status);
      break;
    }
    if (part.state == State::kDone) {
      FUZZ_CHECK(whole.state == State::kDone && sameHead(part, whole),
                 "prefix of %zu bytes is a different head", len);
      break;
    }
  }
  return 0;
}
