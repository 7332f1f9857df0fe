// HttpServer: the collector's HTTP front (REST, SSE, /metrics, /healthz, the pages).
//
// Routes are (method, pattern) pairs; a pattern is a path whose segments are literals or
// `{name}` parameters, e.g. "/api/deployments/{id}/logs". Parameters are percent-decoded and
// handed to the handler. An unknown path answers 404, a known path with another method 405 with
// an Allow header, both with a JSON error body. A handler that throws answers 500 with a JSON
// body; the server keeps running.
//
// Thread-safety: add routes before start(); afterwards the route table is frozen and handlers
// run concurrently on the server's worker threads.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "zc/status.h"

namespace Poco::Net {
class HTTPServer;
}

namespace zc::exporters {

using PathParams = std::map<std::string, std::string>;
using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&,
                                   const PathParams&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;  // 0 = any free port (see HttpServer::port())
  int maxThreads = 16;
  int maxQueued = 256;
  int readTimeoutMs = 10000;  // per read: a client that sends nothing for this long is dropped
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();

  void route(const std::string& method, const std::string& pattern, Handler handler);

  // Binds and starts serving. InvalidArgument / IOError with the reason when it cannot bind.
  Status start();
  // Stops accepting and waits for running requests. Idempotent.
  void stop() noexcept;
  // The bound port (useful with port 0).
  uint16_t port() const noexcept { return boundPort_; }

  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };

 private:
  HttpServerOptions options_;
  std::vector<Route> routes_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  uint16_t boundPort_ = 0;
};

// Writes `body` as the JSON response with `status`.
void sendJson(Poco::Net::HTTPServerResponse& resp, int status, const Poco::JSON::Object& body);
void sendJsonText(Poco::Net::HTTPServerResponse& resp, int status, const std::string& json);
// {"error":"<code>","message":"<message>"} with `status`.
void sendError(Poco::Net::HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message);

}  // namespace zc::exporters
