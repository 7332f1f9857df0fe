// The one writer of HTTP/1.1 response heads: every answer the collector sends (REST and JSON
// errors, the pages, /metrics, /healthz, the SSE handshake, the server's own rejections) starts
// with the bytes of writeResponseHead().
//
// A head is the status line, `Server: zynd-collector` (unless the caller set its own Server),
// the caller's fields in order, the security fields (kSecurityFields: a content security policy
// that allows only the collector's own scripts, styles and connections and no framing,
// `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`; each one only when the
// caller did not set that field itself), then the framing fields, which belong to the writer alone:
// `Content-Length` when the body length is known, or `Transfer-Encoding: chunked` for a body
// produced piece by piece (neither: the body runs until the connection closes, as an SSE
// stream does) and `Connection: keep-alive` or `Connection: close`. Fields the
// caller set named Content-Length, Connection or Transfer-Encoding are dropped, and so is any
// field whose name or value holds a CR or LF (no response splitting). An interim 1xx head is
// the status line alone.
//
// Thread-safety: pure functions; callable from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zc::exporters {

inline constexpr const char* kServerName = "zynd-collector";

// Written on every final head (pages, API, errors, SSE): the pages need nothing else (no inline
// script or style, nothing from another origin), and on the other answers they do no harm.
inline constexpr std::pair<const char*, const char*> kSecurityFields[] = {
    {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
};

struct ResponseHead {
  int status = 200;
  std::string reason;  // empty: the standard reason phrase of `status`
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<size_t> contentLength;  // nullopt: delimited by the close of the connection
  bool chunked = false;                 // Transfer-Encoding: chunked (contentLength unset)
  bool keepAlive = false;
};

// The head's bytes, ending with the empty line.
std::string writeResponseHead(const ResponseHead& head);

// The standard reason phrase of `status` ("OK", "Not Found", ...).
std::string reasonPhrase(int status);

}  // namespace zc::exporters
