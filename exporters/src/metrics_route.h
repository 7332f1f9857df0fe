// GET /metrics: the handler that answers a scrape of `exporter` (Content-Type: text/plain;
// version=0.0.4; charset=utf-8). Defined with the exporter (prometheus_exporter.cpp).
//
// Thread-safety: runs concurrently on the workers (scrapes are serialised by the exporter).
// OWNERSHIP: `exporter` must outlive the server's running state.
#pragma once

#include "zc/exporters/http_server.h"
#include "zc/exporters/prometheus_exporter.h"

namespace zc::exporters {

Handler metricsHandler(PrometheusExporter& exporter);

}  // namespace zc::exporters
