#include "http_request_parser.h"

#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>

#include "zc/exporters/query.h"

namespace zc::exporters {
namespace {

bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The bytes of the unfinished line from `pos`; a CR at the end may be the start of its line end
// and is not counted, so a line is not refused before its length is known (a read that ends
// between CR and LF must not change the outcome).
size_t pendingLineBytes(std::string_view buf, size_t pos) {
  size_t n = buf.size() - pos;
  return n > 0 && buf.back() == '\r' ? n - 1 : n;
}

RequestHead headError(int status, std::string code, std::string message) {
  RequestHead h;
  h.state = RequestHead::State::kError;
  h.error = RequestError{status, std::move(code), std::move(message)};
  return h;
}

RequestHead lineTooLong(const RequestLimits& o) {
  return headError(
      414, "uri_too_long",
      "the request line is longer than " + std::to_string(o.maxRequestLineBytes) + " bytes");
}

RequestHead headersTooLarge(const RequestLimits& o) {
  return headError(
      431, "headers_too_large",
      "the header section is larger than " + std::to_string(o.maxHeaderBytes) + " bytes");
}

// Checks the request line; fills method, target and version of `h`. False with `h` an error.
bool parseRequestLine(std::string_view line, RequestHead& h) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    h = headError(400, "bad_request", "malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || method.size() > 16) {
    h = headError(400, "bad_request", "malformed request method");
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    h = headError(400, "bad_request", "unsupported HTTP version (HTTP/1.0 and 1.1 only)");
    return false;
  }
  if (target.empty() || target.front() != '/') {
    h = headError(400, "bad_request", "the request target must be an absolute path");
    return false;
  }
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || u == '#') {
      h = headError(400, "bad_request",
                    "the request target contains a byte that must be percent-encoded");
      return false;
    }
  }
  h.method = std::string(method);
  h.target = std::string(target);
  h.version = std::string(version);
  return true;
}

// Checks one header line (without its line end) and appends it to `h`. False with `h` an error.
bool parseHeaderLine(std::string_view hl, RequestHead& h) {
  if (hl.front() == ' ' || hl.front() == '\t') {
    h = headError(400, "bad_request", "obsolete header line folding is not accepted");
    return false;
  }
  size_t colon = hl.find(':');
  if (colon == std::string_view::npos || !isToken(hl.substr(0, colon))) {
    h = headError(400, "bad_request", "malformed header field");
    return false;
  }
  std::string_view value = hl.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7F) {
      h = headError(400, "bad_request", "a header value contains a control character");
      return false;
    }
  }
  h.headers.emplace_back(std::string(hl.substr(0, colon)), std::string(value));
  return true;
}

}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

RequestHead parseRequestHead(std::string_view buf, const RequestLimits& o) {
  RequestHead h;
  size_t pos = 0;
  while (pos < buf.size() && pos < 4 && (buf[pos] == '\r' || buf[pos] == '\n')) ++pos;
  size_t nl = buf.find('\n', pos);
  if (nl == std::string_view::npos) {
    if (pendingLineBytes(buf, pos) > o.maxRequestLineBytes) return lineTooLong(o);
    return h;
  }
  std::string_view line = buf.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > o.maxRequestLineBytes) return lineTooLong(o);
  if (!parseRequestLine(line, h)) return h;
  pos = nl + 1;
  size_t headerBytes = 0;
  for (;;) {
    nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (headerBytes + pendingLineBytes(buf, pos) > o.maxHeaderBytes) return headersTooLarge(o);
      h.state = RequestHead::State::kNeedMore;
      return h;
    }
    std::string_view hl = buf.substr(pos, nl - pos);
    pos = nl + 1;
    if (!hl.empty() && hl.back() == '\r') hl.remove_suffix(1);
    if (hl.empty()) break;
    headerBytes += hl.size() + 2;
    if (headerBytes > o.maxHeaderBytes) return headersTooLarge(o);
    if (h.headers.size() + 1 > o.maxHeaderCount) {
      return headError(431, "too_many_headers",
                       "more than " + std::to_string(o.maxHeaderCount) + " header fields");
    }
    if (!parseHeaderLine(hl, h)) return h;
  }
  h.state = RequestHead::State::kDone;
  h.end = pos;
  return h;
}

RequestFraming frameRequest(const RequestHead& head, const RequestLimits& limits) {
  RequestFraming f;
  auto error = [&](int status, std::string code, std::string message) {
    f.error = RequestError{status, std::move(code), std::move(message)};
    return f;
  };
  bool hasHost = false, closeRequested = false, keepAliveRequested = false;
  std::optional<uint64_t> contentLength;
  for (const auto& [name, value] : head.headers) {
    if (equalsIgnoreCase(name, "Host")) {
      if (hasHost) return error(400, "bad_request", "more than one Host header");
      hasHost = true;
    } else if (equalsIgnoreCase(name, "Transfer-Encoding")) {
      return error(411, "length_required", "request bodies must have a Content-Length");
    } else if (equalsIgnoreCase(name, "Content-Length")) {
      auto v = parseUnsignedDecimal(value);
      if (!v.isOk()) return error(400, "bad_request", "malformed Content-Length");
      if (contentLength && *contentLength != *v) {
        return error(400, "bad_request", "conflicting Content-Length headers");
      }
      contentLength = *v;
    } else if (equalsIgnoreCase(name, "Expect")) {
      f.expectContinue = equalsIgnoreCase(value, "100-continue");
    } else if (equalsIgnoreCase(name, "Connection")) {
      std::string lower;
      for (char c : value) {
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      }
      if (lower.find("close") != std::string::npos) closeRequested = true;
      if (lower.find("keep-alive") != std::string::npos) keepAliveRequested = true;
    }
  }
  bool http11 = head.version == "HTTP/1.1";
  if (http11 && !hasHost) return error(400, "bad_request", "HTTP/1.1 requests need a Host header");
  if (contentLength && *contentLength > limits.maxBodyBytes) {
    return error(
        413, "payload_too_large",
        "the request body is larger than " + std::to_string(limits.maxBodyBytes) + " bytes");
  }
  f.bodyLen = contentLength ? static_cast<size_t>(*contentLength) : 0;
  f.keepAlive = http11 ? !closeRequested : keepAliveRequested;
  return f;
}

}  // namespace zc::exporters
