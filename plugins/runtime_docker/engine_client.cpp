#include "engine_client.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>

#include <charconv>
#include <istream>

namespace zc::docker {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

constexpr size_t kMaxBody = 64 * 1024 * 1024;

}  // namespace

std::string filtersQuery(std::string_view json) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "filters=";
  for (char ch : json) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

int parseApiMinor(std::string_view v) {
  if (v.size() < 3 || v.substr(0, 2) != "1.") return 0;
  int minor = 0;
  auto [p, ec] = std::from_chars(v.data() + 2, v.data() + v.size(), minor);
  if (ec != std::errc() || p != v.data() + v.size() || minor <= 0) return 0;
  return minor;
}

EngineClient::EngineClient(std::string socketPath, std::chrono::milliseconds timeout)
    : socketPath_(std::move(socketPath)), timeout_(timeout) {}

EngineClient::EngineClient(std::string socketPath, std::chrono::milliseconds timeout,
                           std::string fixedPrefix)
    : socketPath_(std::move(socketPath)), timeout_(timeout), fixedPrefix_(std::move(fixedPrefix)) {}

Result<HttpResult> EngineClient::rawRequest(const std::string& method, const std::string& uri,
                                            std::chrono::milliseconds timeout,
                                            std::string* apiVersion) {
  try {
    Poco::Net::SocketAddress addr(Poco::Net::SocketAddress::UNIX_LOCAL, socketPath_);
    Poco::Net::StreamSocket sock;
    sock.connect(addr, span(timeout));
    // The session takes over the connected socket (HTTPClientSession cannot connect a
    // UNIX_LOCAL address itself in Poco 1.11).
    Poco::Net::HTTPClientSession session(sock);
    session.setTimeout(span(timeout), span(timeout), span(timeout));
    session.setKeepAlive(false);
    Poco::Net::HTTPRequest req(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost("docker");
    req.set("User-Agent", "zynd-collector");
    if (method == Poco::Net::HTTPRequest::HTTP_POST) req.setContentLength(0);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session.receiveResponse(resp);
    HttpResult out;
    out.status = static_cast<int>(resp.getStatus());
    if (apiVersion) *apiVersion = resp.get("Api-Version", "");
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      out.body.append(buf, static_cast<size_t>(in.gcount()));
      if (out.body.size() > kMaxBody) return Status::corruption("engine response over 64 MiB");
    }
    return out;
  } catch (const Poco::TimeoutException& e) {
    return Status::timeout("engine request " + method + " " + uri + " timed out");
  } catch (const Poco::Net::NetException& e) {
    return Status::unavailable("engine at " + socketPath_ + ": " + e.displayText());
  } catch (const Poco::IOException& e) {
    return Status::unavailable("engine at " + socketPath_ + ": " + e.displayText());
  } catch (const Poco::Exception& e) {
    return Status::unavailable("engine at " + socketPath_ + ": " + e.displayText());
  } catch (const std::exception& e) {
    return Status::internal(std::string("engine request: ") + e.what());
  }
}

Status EngineClient::negotiate() {
  std::string version;
  ZC_ASSIGN_OR_RETURN(HttpResult r, rawRequest("GET", "/_ping", timeout_, &version));
  if (r.status != 200) {
    return Status::unavailable("engine /_ping answered " + std::to_string(r.status));
  }
  int minor = parseApiMinor(version);
  if (minor == 0) return Status::unavailable("engine sent no usable Api-Version ('" + version + "')");
  if (minor < kMinApiMinor) {
    return Status::unavailable("engine API " + version + " is older than 1." +
                               std::to_string(kMinApiMinor));
  }
  std::lock_guard<std::mutex> lock(mu_);
  minor_ = std::min(minor, kMaxApiMinor);
  return Status::ok();
}

int EngineClient::apiMinor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return minor_;
}

Result<std::string> EngineClient::apiPrefix() {
  int minor = apiMinor();
  if (minor == 0) {
    ZC_RETURN_IF_ERROR(negotiate());
    minor = apiMinor();
  }
  if (!fixedPrefix_.empty()) return fixedPrefix_;
  return "/v1." + std::to_string(minor);
}

Result<HttpResult> EngineClient::request(const std::string& method, std::string_view path,
                                         std::chrono::milliseconds timeout) {
  ZC_ASSIGN_OR_RETURN(std::string prefix, apiPrefix());
  return rawRequest(method, prefix + std::string(path), timeout.count() > 0 ? timeout : timeout_,
                    nullptr);
}

std::string EngineClient::errorMessage(const HttpResult& r) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(r.body);
    auto obj = v.extract<Poco::JSON::Object::Ptr>();
    if (obj && obj->has("message")) return obj->getValue<std::string>("message");
  } catch (const std::exception&) {
    // Not JSON: fall through to the raw body.
  }
  return r.body.substr(0, 200);
}

namespace {

Status statusFor(const HttpResult& r, std::string_view path) {
  std::string msg = "engine " + std::string(path) + ": " + std::to_string(r.status) + " " +
                    EngineClient::errorMessage(r);
  if (r.status == 404) return Status::notFound(msg);
  if (r.status == 400) return Status::invalidArgument(msg);
  return Status::unavailable(msg);
}

template <typename T>
Result<T> parseAs(const std::string& body, std::string_view path) {
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(body);
    T p = v.extract<T>();
    if (!p) return Status::corruption("engine " + std::string(path) + ": unexpected JSON");
    return p;
  } catch (const std::exception& e) {
    return Status::corruption("engine " + std::string(path) + ": bad JSON: " + e.what());
  }
}

}  // namespace

Result<Poco::JSON::Object::Ptr> EngineClient::getObject(std::string_view path) {
  ZC_ASSIGN_OR_RETURN(HttpResult r, request("GET", path));
  return objectFrom(r, path);
}

Result<Poco::JSON::Object::Ptr> EngineClient::objectFrom(const HttpResult& r,
                                                         std::string_view path) {
  if (r.status != 200) return statusFor(r, path);
  return parseAs<Poco::JSON::Object::Ptr>(r.body, path);
}

Result<Poco::JSON::Array::Ptr> EngineClient::getArray(std::string_view path) {
  ZC_ASSIGN_OR_RETURN(HttpResult r, request("GET", path));
  if (r.status != 200) return statusFor(r, path);
  return parseAs<Poco::JSON::Array::Ptr>(r.body, path);
}

}  // namespace zc::docker
