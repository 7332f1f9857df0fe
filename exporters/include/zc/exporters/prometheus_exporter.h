// PrometheusExporter: GET /metrics in the Prometheus text format 0.0.4.
//
// A prometheus-cpp Registry (core only) is refreshed from CollectorApi::deploymentGauges() and
// collectorGauges() at each scrape and serialised with prometheus::TextSerializer. Series:
//   per deployment, labelled deployment="<id>" only (plus the bounded `status` / `stream`
//   dimensions below; never env or free text, except the name, slug, kind and host of the one
//   zynd_deployment_info series, made for joins):
//     zynd_deployment_cpu_seconds_total            counter
//     zynd_deployment_cpu_percent                  gauge, 100 = one core (after the first sample)
//     zynd_deployment_memory_used_bytes            gauge (after the first sample)
//     zynd_deployment_memory_limit_bytes           gauge (after the first sample)
//     zynd_deployment_status{status=...}           state set: one series per status, 1 = current
//     zynd_deployment_log_lines_total{stream=...}  counter, stdout|stderr|system
//     zynd_deployment_crashes_total                counter
//     zynd_deployment_health_consecutive_failures  gauge
//     zynd_deployment_last_exit_code               gauge (when known)
//     zynd_deployment_info{deployment,name,slug,kind,host}  constant 1, for joins (label values
//                                                  sanitised to UTF-8, at most 128 bytes)
//   the collector itself: every CollectorGauges field (zynd_collector_*; the data folder's
//   zynd_collector_data_dir_free_bytes / _size_bytes only when known) and the SSE hub's
//   figures (zynd_collector_sse_*), plus zynd_collector_info{version,host},
//   zynd_collector_build_info{version,revision}, the HTTP series of the routed requests
//   (zynd_collector_http_*, fed through requestObserver(); see http_metrics.h) and the process
//   series (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
//   process_max_fds, process_threads, process_start_time_seconds; read from /proc at each scrape).
// Series of deployments that are no longer listed are removed.
//
// Thread-safety: scrape() may be called from any thread; scrapes are serialised.
#pragma once

#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zc/exporters/http_server.h"
#include "zc/exporters/sse_hub.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

class HttpMetrics;

class PrometheusExporter {
 public:
  // OWNERSHIP: `api` and `hub` (may be null) must outlive the exporter.
  PrometheusExporter(host::CollectorApi& api, const SseHub* hub);
  ~PrometheusExporter();

  // Refreshes the registry and returns the exposition text.
  std::string scrape();
  // What the HTTP server tells of each routed request (HttpServer::setRequestObserver).
  RequestObserver& requestObserver() noexcept;

 private:
  struct Families;
  struct DeploymentSeries;
  void refresh();

  host::CollectorApi& api_;
  const SseHub* hub_;
  std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
  std::unique_ptr<HttpMetrics> http_;
  bool processStatsFailed_ = false;
  std::map<std::string, std::unique_ptr<DeploymentSeries>> deployments_;
};

}  // namespace zc::exporters
