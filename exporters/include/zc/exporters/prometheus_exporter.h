// PrometheusExporter: GET /metrics in the Prometheus text format 0.0.4.
//
// A prometheus-cpp Registry (core only) is refreshed from CollectorApi::deploymentGauges() and
// collectorGauges() at each scrape and serialised with prometheus::TextSerializer. Series:
//   per deployment, labelled deployment="<id>" only (plus the bounded `status` / `stream`
//   dimensions below; never container labels, env or free text):
//     zynd_deployment_cpu_seconds_total            counter
//     zynd_deployment_cpu_percent                  gauge, 100 = one core (after the first sample)
//     zynd_deployment_memory_used_bytes            gauge (after the first sample)
//     zynd_deployment_memory_limit_bytes           gauge (after the first sample)
//     zynd_deployment_status{status=...}           state set: one series per status, 1 = current
//     zynd_deployment_log_lines_total{stream=...}  counter, stdout|stderr|system
//     zynd_deployment_crashes_total                counter
//     zynd_deployment_health_consecutive_failures  gauge
//     zynd_deployment_last_exit_code               gauge (when known)
//   the collector itself: every CollectorGauges field (zynd_collector_*) and the SSE hub's
//   figures (zynd_collector_sse_*), plus zynd_collector_info{version}.
// Series of deployments that are no longer listed are removed.
//
// Thread-safety: scrape() may be called from any thread; scrapes are serialised.
#pragma once

#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "zc/exporters/sse_hub.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

class PrometheusExporter {
 public:
  // OWNERSHIP: `api` and `hub` (may be null) must outlive the exporter.
  PrometheusExporter(host::CollectorApi& api, const SseHub* hub);
  ~PrometheusExporter();

  // Refreshes the registry and returns the exposition text.
  std::string scrape();

 private:
  struct Families;
  struct DeploymentSeries;
  void refresh();

  host::CollectorApi& api_;
  const SseHub* hub_;
  std::mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> f_;
  std::map<std::string, std::unique_ptr<DeploymentSeries>> deployments_;
};

}  // namespace zc::exporters
