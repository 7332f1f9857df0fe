#include "zc/exporters/http_server.h"

#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace zc::exporters {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool isParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

class RoutingHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RoutingHandler(const std::vector<HttpServer::Route>& routes) : routes_(routes) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    try {
      dispatch(req, resp);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.getMethod(), req.getURI(), e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "the request failed inside the collector");
    }
  }

 private:
  void dispatch(HTTPServerRequest& req, HTTPServerResponse& resp) {
    // Split the raw path first, then decode each segment: an encoded '/' (%2F) stays inside its
    // segment and can never create a new one.
    const std::string& uri = req.getURI();
    std::string rawPath = uri.substr(0, uri.find('?'));
    std::vector<std::string> segs = splitPath(rawPath);
    std::string allow;
    for (const auto& r : routes_) {
      if (r.segments.size() != segs.size()) continue;
      PathParams params;
      bool match = true;
      for (size_t i = 0; i < segs.size() && match; ++i) {
        if (isParam(r.segments[i])) {
          std::string decoded;
          try {
            Poco::URI::decode(segs[i], decoded);
          } catch (const Poco::Exception&) {
            match = false;
            break;
          }
          params[r.segments[i].substr(1, r.segments[i].size() - 2)] = decoded;
        } else if (r.segments[i] != segs[i]) {
          match = false;
        }
      }
      if (!match) continue;
      if (r.method != req.getMethod() && !(r.method == "GET" && req.getMethod() == "HEAD")) {
        if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
        continue;
      }
      r.handler(req, resp, params);
      return;
    }
    if (!allow.empty()) {
      resp.set("Allow", allow);
      sendError(resp, 405, "method_not_allowed",
                "method " + req.getMethod() + " is not allowed here; allowed: " + allow);
      return;
    }
    sendError(resp, 404, "not_found", "no such path");
  }

  const std::vector<HttpServer::Route>& routes_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(const std::vector<HttpServer::Route>& routes) : routes_(routes) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new RoutingHandler(routes_);
  }

 private:
  const std::vector<HttpServer::Route>& routes_;
};

}  // namespace

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, splitPath(pattern), std::move(handler)});
}

Status HttpServer::start() {
  try {
    Poco::Net::SocketAddress addr(options_.host, options_.port);
    // SO_REUSEADDR for quick restarts, but never SO_REUSEPORT (Poco's default with the
    // address constructor): a second collector on the same port must fail, not share it.
    Poco::Net::ServerSocket socket;
    socket.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(256);
    boundPort_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(options_.maxThreads);
    params->setMaxQueued(options_.maxQueued);
    params->setTimeout(Poco::Timespan(static_cast<long>(options_.readTimeoutMs) * 1000));
    params->setKeepAlive(true);
    params->setServerName("zynd-collector");
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(routes_), socket, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                           ": " + e.displayText());
  }
  return Status::ok();
}

void HttpServer::stop() noexcept {
  if (!server_) return;
  try {
    server_->stopAll(true);
  } catch (const std::exception& e) {
    spdlog::warn("stopping HTTP server: {}", e.what());
  }
  server_.reset();
}

void sendJsonText(HTTPServerResponse& resp, int status, const std::string& json) {
  resp.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  resp.setContentType("application/json; charset=utf-8");
  resp.set("Cache-Control", "no-store");
  resp.setContentLength(static_cast<std::streamsize>(json.size()));
  resp.send().write(json.data(), static_cast<std::streamsize>(json.size()));
}

void sendJson(HTTPServerResponse& resp, int status, const Poco::JSON::Object& body) {
  std::ostringstream out;
  body.stringify(out);
  sendJsonText(resp, status, out.str());
}

void sendError(HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message) {
  Poco::JSON::Object body;
  body.set("error", code);
  body.set("message", message);
  sendJson(resp, status, body);
}

}  // namespace zc::exporters
