// The HTTP/1.1 request parser: pure functions over the bytes a connection has received, no
// sockets, no clock. parseRequestHead() reads the request line and the header fields;
// frameRequest() decides how the head frames its body (Content-Length only), whether the client
// waits for 100 Continue and whether the connection may be kept alive. Each failure names the
// status the server answers with and the JSON error code and message it sends:
//   400 bad_request        malformed request line, method, target, version or header field,
//                          obsolete line folding, control bytes in a value, duplicate Host,
//                          malformed or conflicting Content-Length, HTTP/1.1 without Host
//   411 length_required    Transfer-Encoding (chunked or any other): only Content-Length bodies
//   413 payload_too_large  Content-Length above maxBodyBytes
//   414 uri_too_long       request line above maxRequestLineBytes
//   431 headers_too_large / too_many_headers   above maxHeaderBytes / maxHeaderCount
// The parser never reads past the bytes it is given and never grows beyond them; a head is
// re-parsed from its start each time more bytes arrive (heads are a few tens of KiB at most).
//
// Thread-safety: pure functions over their arguments; callable from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zc::exporters {

struct RequestLimits {
  size_t maxRequestLineBytes = 8192;  // 414 beyond
  size_t maxHeaderBytes = 16384;      // all header lines together; 431 beyond
  size_t maxHeaderCount = 64;         // 431 beyond
  size_t maxBodyBytes = 65536;        // 413 beyond
};

// What a refused request is answered with; status 0 when nothing is wrong.
struct RequestError {
  int status = 0;
  std::string code;
  std::string message;
};

// The request line and header fields found at the start of a buffer.
struct RequestHead {
  enum class State { kNeedMore, kDone, kError } state = State::kNeedMore;
  RequestError error;  // set in kError
  size_t end = 0;      // kDone: bytes of the head, including the empty line that closes it
  std::string method;
  std::string target;   // the raw request target (an absolute path, maybe with a query)
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  // in order, values trimmed
};

// How a complete head frames its body; error.status != 0 when the request is refused.
struct RequestFraming {
  RequestError error;
  size_t bodyLen = 0;           // Content-Length, 0 without one
  bool expectContinue = false;  // Expect: 100-continue
  bool keepAlive = false;       // HTTP/1.1 unless "close"; HTTP/1.0 only with "keep-alive"
};

// Parses the head at the start of `buf` (up to four stray CR/LF before the request line are
// skipped, RFC 9112 2.2). kNeedMore when the head is incomplete and within the limits so far.
RequestHead parseRequestHead(std::string_view buf, const RequestLimits& limits);

// Checks the header fields of a kDone head and frames its body.
RequestFraming frameRequest(const RequestHead& head, const RequestLimits& limits);

// ASCII case-insensitive comparison (header names, tokens).
bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

}  // namespace zc::exporters
