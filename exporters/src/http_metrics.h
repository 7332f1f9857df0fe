// HttpMetrics: the /metrics series of the HTTP server's routed requests, fed by the router
// (HttpServer::setRequestObserver):
//   zynd_collector_http_requests_total{route,method,code}        counter
//   zynd_collector_http_request_duration_seconds{route,method}   histogram, routing + handler
// `route` is the route pattern or "unmatched" and `method` a fixed set (RequestObserver), so
// the number of series is bounded by the route table whatever clients send.
//
// Thread-safety: observe() is called concurrently by the workers; prometheus-cpp's families and
// metrics are thread-safe, and the registry may be collected meanwhile.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

#include "zc/exporters/http_server.h"

namespace zc::exporters {

class HttpMetrics final : public RequestObserver {
 public:
  // Registers both families in `registry`. OWNERSHIP: `registry` must outlive this object.
  explicit HttpMetrics(prometheus::Registry& registry);
  void observe(const std::string& route, const std::string& method, int status,
               double seconds) noexcept override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
};

}  // namespace zc::exporters
