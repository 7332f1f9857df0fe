// The single entry point the daemon calls to serve everything on its HttpServer:
// registerExporters() registers every route (src/routes.cpp: the REST API, the SSE log streams,
// GET /metrics, GET /healthz and the pages) and starts the SSE hub.
//
// How the daemon wires it (collector/src/subsystems.cpp, HttpSubsystem):
//
//   void HttpSubsystem::initialize(Poco::Util::Application&) {
//     exporters::ExporterOptions options;
//     options.webDir = s_.config.webDir;                 // the built pages, or empty
//     auto ex = exporters::registerExporters(*s_.http, *s_.api, options);
//     if (!ex.isOk()) fail("exporters", ex.status());
//     s_.exporters = std::move(ex).value();               // the SSE hub thread is running now
//     Status st = s_.http->start();                       // routes are frozen from here on
//     ...
//   }
//   void HttpSubsystem::uninitialize() {
//     if (s_.http) s_.http->stop();     // 1. no new requests, no new streams
//     s_.exporters.reset();             // 2. closes every stream, unsubscribes from the bus
//     s_.http.reset();
//   }
//
// ORDER: registerExporters() before HttpServer::start() (routes are frozen by start()); the
// returned Exporters must be destroyed after the server stopped and before the CollectorApi and
// its LiveBus are destroyed.
//
// Thread-safety: registerExporters() from the thread that owns the server, before start().
#pragma once

#include <memory>
#include <string>

#include "zc/exporters/access.h"
#include "zc/exporters/http_server.h"
#include "zc/exporters/prometheus_exporter.h"
#include "zc/exporters/sse_hub.h"
#include "zc/host/collector_api.h"
#include "zc/status.h"

namespace zc::exporters {

struct ExporterOptions {
  SseOptions sse;
  bool prometheus = true;  // serve GET /metrics
  std::string webDir;      // the built pages (web/dist): GET /, /d/{id}, /assets/{file}; empty:
                           // no pages
  // The checks run before routing (tokens, Host, Origin, audit); null: none. OWNERSHIP: must
  // outlive the server's running state.
  const AccessControl* access = nullptr;
  // A logs page (GET .../logs) stops before the line that would take its body past this; the
  // page's first line is always sent, whatever its size.
  size_t maxPageBytes = 4 << 20;
};

// Owns what the exporter routes use beyond the CollectorApi: the SSE hub (running from
// creation until stop() or destruction) and the Prometheus registry.
class Exporters {
 public:
  Exporters(host::CollectorApi& api, const ExporterOptions& options);
  ~Exporters();  // stop()

  // Closes every SSE stream and joins the hub thread. Idempotent.
  void stop() noexcept;

  SseHub& sseHub() noexcept { return hub_; }
  PrometheusExporter& prometheus() noexcept { return prometheus_; }

 private:
  friend Result<std::unique_ptr<Exporters>> registerExporters(HttpServer&, host::CollectorApi&,
                                                              const ExporterOptions&);
  ExporterOptions options_;
  SseHub hub_;
  PrometheusExporter prometheus_;
};

// Adds every exporter route to `server` and starts the SSE hub. Call before server.start().
// OWNERSHIP: `api` must outlive the returned object; the caller owns it.
Result<std::unique_ptr<Exporters>> registerExporters(HttpServer& server, host::CollectorApi& api,
                                                     const ExporterOptions& options);

}  // namespace zc::exporters
