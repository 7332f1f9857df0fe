#include "caddy_router.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <cstdio>
#include <istream>
#include <stdexcept>

#include "zc/model.h"

namespace zc::router {
namespace {

// Caddy's error bodies are a few dozen bytes; anything longer is cut, never buffered whole.
constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxQuotedBytes = 160;

bool isRouteIdChar(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// Untrusted text made printable and short, so that every message stays one line.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (out.size() >= kMaxQuotedBytes) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string readBody(std::istream& in) {
  std::string body;
  char buf[4096];
  while (body.size() < kMaxBodyBytes && in.read(buf, sizeof buf).gcount() > 0) {
    body.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (body.size() > kMaxBodyBytes) body.resize(kMaxBodyBytes);
  return body;
}

// The "error" member of Caddy's JSON error body, or the raw body when it is not such JSON.
std::string errorText(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    if (obj && obj->has("error")) return obj->getValue<std::string>("error");
  } catch (const Poco::Exception&) {
    // Not Caddy's JSON error shape: report the raw body.
  } catch (const std::exception&) {
    // Same (Poco::Dynamic::Var throws std::exception subclasses for wrong types).
  }
  return body;
}

}  // namespace

bool isValidRouteId(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxRouteIdLength || id == "." || id == "..") return false;
  for (unsigned char c : id) {
    if (!isRouteIdChar(c)) return false;
  }
  return true;
}

std::vector<plugin::OptionSpec> CaddyRouter::optionSpecs() const noexcept {
  using plugin::OptionType;
  return {
      {"admin_url", OptionType::kString, kDefaultCaddyAdmin,
       "admin API base URL, http://host:port only"},
      {"timeout", OptionType::kDuration, kDefaultCaddyTimeout,
       "connect, send and receive timeout per request"},
  };
}

Status CaddyRouter::configure(const plugin::PluginContext& context) noexcept {
  try {
    logger_ = context.logger;
    ZC_ASSIGN_OR_RETURN(plugin::OptionValues v,
                        plugin::OptionValues::parse(optionSpecs(), context.options));
    const std::string& admin = v.string("admin_url");
    Poco::URI uri;
    try {
      uri = Poco::URI(admin);
    } catch (const Poco::Exception&) {
      return Status::invalidArgument("admin_url: '" + printable(admin) + "' is not a URL");
    }
    if (uri.getScheme() != "http" || uri.getHost().empty() || !uri.getUserInfo().empty() ||
        !(uri.getPath().empty() || uri.getPath() == "/") || !uri.getRawQuery().empty() ||
        !uri.getFragment().empty() || uri.getPort() == 0) {
      return Status::invalidArgument("admin_url: '" + printable(admin) +
                                     "' is not of the form http://host:port");
    }
    host_ = uri.getHost();
    port_ = uri.getPort();
    const bool ipv6 = host_.find(':') != std::string::npos;
    hostHeader_ = (ipv6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
    adminUrl_ = "http://" + hostHeader_;

    timeoutMicros_ = v.durationNs("timeout") / 1000;
    if (timeoutMicros_ <= 0) {
      return Status::invalidArgument("timeout: '" + printable(v.string("timeout")) +
                                     "' is shorter than 1 us");
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("caddy router: configure: ") + e.what());
  }
}

Status CaddyRouter::removeRoute(std::string_view routeId) noexcept {
  try {
    if (!isValidRouteId(routeId)) {
      return Status::invalidArgument("route id '" + printable(routeId) +
                                     "' is not 1-128 characters of [A-Za-z0-9_.-]");
    }
    return sendDelete(std::string(routeId));
  } catch (const std::exception& e) {
    // Only allocation can get here; the boundary is noexcept.
    return Status::internal(std::string("caddy router: ") + e.what());
  }
}

Status CaddyRouter::sendDelete(const std::string& routeId) {
  const std::string path = "/id/" + routeId;
  const std::string what = "caddy admin " + adminUrl_ + " DELETE " + path;
  int status = 0;
  std::string body;
  try {
    Poco::Net::HTTPClientSession session(host_, port_);
    const Poco::Timespan timeout(timeoutMicros_);
    session.setTimeout(timeout, timeout, timeout);
    session.setKeepAlive(false);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_DELETE, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    // Caddy refuses a Host it does not listen on (and one without the port); with
    // enforce_origin it also wants an Origin naming the admin endpoint itself.
    request.setHost(hostHeader_);
    request.set("Origin", adminUrl_);
    request.setContentLength(0);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    status = static_cast<int>(response.getStatus());
    body = readBody(in);
  } catch (const Poco::Net::ConnectionRefusedException&) {
    return Status::unavailable(what + ": connection refused (is Caddy running?)");
  } catch (const Poco::TimeoutException&) {
    return Status::unavailable(what + ": no answer within " +
                               std::to_string(timeoutMicros_ / 1000) + " ms");
  } catch (const Poco::Exception& e) {
    return Status::unavailable(what + ": " + printable(e.displayText()));
  }

  if (status == Poco::Net::HTTPResponse::HTTP_OK) {
    log(plugin::LogLevel::kInfo, "removed caddy route '" + routeId + "'");
    return Status::ok();
  }
  const std::string error = errorText(body);
  // Caddy 2.6 answers an @id it does not know with exactly this (404). Any other 404 (e.g. a
  // proxy in front of the admin API) is an error, not an absent route.
  if (status == Poco::Net::HTTPResponse::HTTP_NOT_FOUND &&
      error == "unknown object ID '" + routeId + "'") {
    log(plugin::LogLevel::kDebug, "caddy route '" + routeId + "' was already gone");
    return Status::ok();
  }
  std::string msg = what + ": answered " + std::to_string(status) + ": " + printable(error);
  if (status >= 500) return Status::unavailable(std::move(msg));
  return Status::failedPrecondition(std::move(msg));
}

void CaddyRouter::log(plugin::LogLevel level, const std::string& message) const noexcept {
  if (logger_ != nullptr) logger_->log(level, message);
}

}  // namespace zc::router
