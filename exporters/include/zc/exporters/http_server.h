// HttpServer: the collector's HTTP/1.1 front (REST, SSE, /metrics, /healthz, the pages).
//
// Routes are (method, pattern) pairs; a pattern is a path whose segments are literals or
// `{name}` parameters, e.g. "/api/deployments/{id}/logs". The raw path is split on '/' first and
// each segment is then percent-decoded, so an encoded '/' (%2F) stays inside its segment; a
// malformed escape or a decoded NUL answers 400. An unknown path answers 404, a known path with
// another method 405 with an Allow header; HEAD runs the GET handler without sending its body.
// A handler that throws answers 500; the server keeps running.
//
// The server reads and checks every request itself (Poco's HTTPServer answers oversized or
// malformed requests with bodiless errors), so every error it produces carries the JSON body
// {"error":"<code>","message":"..."}:
//   400 malformed request line, header or percent-escape; HTTP/1.1 without Host
//   408 the request did not arrive within readTimeoutMs per read / requestTimeoutMs in total
//   411 a body with Transfer-Encoding (only Content-Length bodies are accepted)
//   413 body larger than maxBodyBytes        414 request line longer than maxRequestLineBytes
//   431 header section larger than maxHeaderBytes or with more than maxHeaderCount fields
//   503 maxQueued connections already open and waiting (for their request or for a worker), or
//       maxConnectionsPerPeer connections already open from the same peer address (both with
//       Retry-After; over TLS such a connection is closed before the handshake instead: a
//       response would need the handshake the cap is there to refuse)
// After any of these the connection is closed.
//
// TLS (options.tls, zc/exporters/tls.h): the reactor runs each connection's handshake,
// non-blocking and bounded by readTimeoutMs per read and requestTimeoutMs in total, before the
// first request byte; a client that fails it (plain HTTP, no or a bad client certificate under
// mutual TLS, silence) is closed without a response. reloadTls() swaps in new files for the
// connections accepted afterwards. With an AccessControl set (setAccessControl()),
// a complete request passes its checks before the router: 421, 429, 403 or 401
// (zc/exporters/access.h), each with the same JSON body. Keep-alive is supported (bounded in
// requests and idle time). Handlers receive Poco's HTTPServerRequest / HTTPServerResponse
// interfaces; response bodies are buffered and sent with a Content-Length when the handler returns.
//
// Threads (started by start(), joined by stop()): one reactor (http_reactor.h) that accepts and
// holds every connection until its request is complete, and maxThreads workers (http_workers.h)
// that each serve one complete request at a time, so slow or silent clients never hold a worker.
// A handler may take the connection away from the server with detachConnection() (used by SSE).
// The parts live in exporters/src: http_request_parser (pure), http_connection (the hand-over
// between reactor and workers), http_router, response_head (the one writer of response heads),
// poco_adapters, json_response.
//
// Thread-safety: add routes before start(); afterwards the route table is frozen and handlers
// run concurrently on the worker threads. start()/stop() from one thread.
#pragma once

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "zc/exporters/tls.h"
#include "zc/exporters/transport.h"
#include "zc/status.h"

namespace zc::exporters {

class Router;
class AccessControl;
class TlsHolder;

using PathParams = std::map<std::string, std::string>;
using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&,
                                   const PathParams&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // loopback by default
  uint16_t port = 7070;            // 0 = any free port (see HttpServer::port())
  int maxThreads = 16;             // worker threads (each serves one complete request at a time)
  int maxQueued = 1024;  // open connections not being served (request arriving, idle between
                         // requests, or waiting for a worker); beyond: 503 and close
  int readTimeoutMs = 10000;     // per read/write: a peer silent for this long is dropped
  int requestTimeoutMs = 30000;  // whole request (line, headers, body): slowloris bound
  int keepAliveTimeoutMs = 5000;      // idle time allowed between two requests of one connection
  int maxKeepAliveRequests = 100;     // requests per connection before it is closed
  size_t maxRequestLineBytes = 8192;  // 414 beyond
  size_t maxHeaderBytes = 16384;      // all header lines together; 431 beyond
  size_t maxHeaderCount = 64;         // 431 beyond
  size_t maxBodyBytes = 65536;        // 413 beyond
  size_t maxConnectionsPerPeer = 64;  // open connections of one peer address; 0 = no cap
  TlsFiles tls;                       // empty certFile: plain HTTP
};

// Told of every request the router answered: its route pattern ("/api/deployments/{id}", never
// the raw path; "unmatched" for a path no route has, so the values are bounded by the route
// table), its method (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, else "other"), the status
// sent and the seconds the routing and handler took (for a handler that takes the connection
// away, such as the SSE stream, until it did). Requests the access checks refuse, and the
// server's own 4xx/503 answers before a request is complete, are not routed and not observed.
// Thread-safety: observe() is called concurrently by the workers and must not throw.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void observe(const std::string& route, const std::string& method, int status,
                       double seconds) noexcept = 0;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void route(const std::string& method, const std::string& pattern, Handler handler);
  // The route table: (method, pattern) of every route, in the order registered (what the API
  // contract test compares with docs/openapi.yaml). HEAD is served wherever GET is.
  std::vector<std::pair<std::string, std::string>> routes() const;
  // The checks every request passes before routing (zc/exporters/access.h); none by default.
  // Call before start(). OWNERSHIP: `access` must outlive the server's running state.
  void setAccessControl(const AccessControl* access) noexcept;
  // Who is told of each routed request (the /metrics HTTP series); none by default. Call before
  // start(). OWNERSHIP: `observer` must outlive the server's running state.
  void setRequestObserver(RequestObserver* observer) noexcept;

  // Claims the listen address (SO_REUSEADDR, never SO_REUSEPORT: a second collector on the same
  // port must fail) without starting any thread, so a daemon can fail on a busy port before it
  // starts anything else. Idempotent. IOError with the reason when it cannot bind.
  Status bind();
  // Loads options.tls (InvalidArgument naming the file and the reason), then claims the port.
  // Binds (when bind() was not called) and starts the threads. Routes are frozen from here on.
  Status start();
  // Stops accepting, closes idle and active connections (not detached ones) and joins every
  // thread. Idempotent.
  void stop() noexcept;
  // Re-reads the TLS files named in options.tls; the new certificate serves the connections
  // accepted from then on. On failure (InvalidArgument naming the file) the old one stays.
  // FailedPrecondition when the server does not use TLS. Thread-safe.
  Status reloadTls();
  bool tlsEnabled() const noexcept { return options_.tls.enabled(); }
  // The bound port (useful with port 0).
  uint16_t port() const noexcept { return boundPort_; }
  const HttpServerOptions& options() const noexcept { return options_; }

  // The bound listening socket and the running threads (http_server.cpp).
  struct Impl;

 private:
  HttpServerOptions options_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<TlsHolder> tls_;  // the context new connections get (null: plain HTTP)
  std::unique_ptr<Impl> impl_;
  uint16_t boundPort_ = 0;
};

// Takes the connection that carried `req` away from the server: the server then writes no
// response, reads nothing more and does not close it. OWNERSHIP: the caller owns the returned
// transport (non-blocking, TCP_NODELAY set, TLS handshake done); destroying it closes the
// connection. nullptr when `req` was not produced by HttpServer. Call at most once per request,
// from its handler.
std::unique_ptr<Transport> detachConnection(Poco::Net::HTTPServerRequest& req) noexcept;

// Whether `req` arrived over TLS (for routes that set cookies: `Secure` only then). False for
// requests the server did not produce.
bool isTls(const Poco::Net::HTTPServerRequest& req) noexcept;

// Who sent a request, as the access checks (zc/exporters/access.h) found it.
struct Requester {
  std::string tokenName;    // the token's name; empty when anonymous (no tokens file)
  std::string tokenScope;   // "read" or "operate"; empty when anonymous
  std::string address;      // the peer's IP address
  bool fullAccess = true;   // false: GET /healthz without a token while tokens are on
  bool viaSession = false;  // the token came as a session cookie, not as a Bearer header
};
// The requester of `req`; an anonymous one with full access for requests the server did not
// produce.
const Requester& requesterOf(const Poco::Net::HTTPServerRequest& req) noexcept;

// `json` must already be valid JSON text (from JsonWriter).
void sendJsonText(Poco::Net::HTTPServerResponse& resp, int status, const std::string& json);
// The same, taking the text: the server sends it without copying it (a large logs page).
void sendJsonText(Poco::Net::HTTPServerResponse& resp, int status, std::string&& json);
// {"error":"<code>","message":"<message>"} with `status`; `message` is sanitised to UTF-8.
void sendError(Poco::Net::HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message);

}  // namespace zc::exporters
