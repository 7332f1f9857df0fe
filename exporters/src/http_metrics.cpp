#include "http_metrics.h"

#include <spdlog/spdlog.h>

namespace zc::exporters {
namespace {

// From a cached /healthz (well under a millisecond) to a page of 5,000 lines read from disk.
const prometheus::Histogram::BucketBoundaries kBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("zynd_collector_http_requests_total")
                    .Help("HTTP requests answered by a route (route pattern, method, status "
                          "code); requests refused by the access checks are not counted.")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("zynd_collector_http_request_duration_seconds")
                    .Help("Time from routing to the handler's return (for an SSE stream: to its "
                          "hand-over to the hub), in seconds.")
                    .Register(registry)) {}

void HttpMetrics::observe(const std::string& route, const std::string& method, int status,
                          double seconds) noexcept {
  try {
    requests_.Add({{"route", route}, {"method", method}, {"code", std::to_string(status)}})
        .Increment();
    duration_.Add({{"route", route}, {"method", method}}, kBuckets).Observe(seconds);
  } catch (const std::exception& e) {
    spdlog::warn("HTTP metrics: {}", e.what());
  }
}

}  // namespace zc::exporters
