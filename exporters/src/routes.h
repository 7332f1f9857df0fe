// registerRoutes(): every route the collector serves, in one table: the REST API, the SSE log
// stream, /metrics, /healthz, the session API, the API's own description (/api/openapi.json,
// docs/openapi.yaml: a route added here must be added there, tests/contract checks it) and the
// pages. Which handler answers which (method, path) is read here and nowhere else.
//
// Thread-safety: call from the thread that owns the server, before HttpServer::start().
#pragma once

#include <string>

#include "zc/exporters/access.h"
#include "zc/exporters/exporters.h"
#include "zc/exporters/http_server.h"
#include "zc/exporters/prometheus_exporter.h"
#include "zc/exporters/sse_hub.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

// `prometheus` null: no /metrics. `options.webDir` empty: no pages. `options.access` null: the
// session API answers that tokens are off. OWNERSHIP: everything passed must outlive the
// server's running state.
void registerRoutes(HttpServer& server, host::CollectorApi& api, SseHub& hub,
                    PrometheusExporter* prometheus, const ExporterOptions& options);

}  // namespace zc::exporters
