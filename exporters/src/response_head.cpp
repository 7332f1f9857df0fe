#include "response_head.h"

#include <Poco/Net/HTTPResponse.h>

#include "http_request_parser.h"

namespace zc::exporters {
namespace {

bool framingField(const std::string& name) {
  return equalsIgnoreCase(name, "Content-Length") || equalsIgnoreCase(name, "Connection") ||
         equalsIgnoreCase(name, "Transfer-Encoding");
}

bool hasLineBreak(const std::string& s) {
  return s.find_first_of("\r\n") != std::string::npos;
}

}  // namespace

std::string reasonPhrase(int status) {
  return Poco::Net::HTTPResponse::getReasonForStatus(
      static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
}

std::string writeResponseHead(const ResponseHead& head) {
  std::string out = "HTTP/1.1 " + std::to_string(head.status) + " ";
  out += head.reason.empty() || hasLineBreak(head.reason) ? reasonPhrase(head.status) : head.reason;
  out += "\r\n";
  if (head.status >= 100 && head.status < 200) return out + "\r\n";
  auto callerSet = [&](const char* field) {
    for (const auto& [name, value] : head.fields) {
      if (equalsIgnoreCase(name, field)) return true;
    }
    return false;
  };
  if (!callerSet("Server")) out += std::string("Server: ") + kServerName + "\r\n";
  for (const auto& [name, value] : head.fields) {
    if (framingField(name) || name.empty() || hasLineBreak(name) || hasLineBreak(value)) continue;
    out += name + ": " + value + "\r\n";
  }
  for (const auto& [name, value] : kSecurityFields) {
    if (!callerSet(name)) out += std::string(name) + ": " + value + "\r\n";
  }
  if (head.contentLength) {
    out += "Content-Length: " + std::to_string(*head.contentLength) + "\r\n";
  } else if (head.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  out += head.keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

}  // namespace zc::exporters
