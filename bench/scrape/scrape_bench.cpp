// bench_scrape: how long GET /metrics takes with 200 deployments (goal: under 20 ms), next to a
// baseline measured in the same run: GET /healthz (a tiny JSON answer) through the same server;
// and the exposition's size next to the same exposition with no deployment (the collector's own
// series only). Serialising in process is printed for information. Loopback only; bounded count.
//
//   bench_scrape [--deployments 200] [--requests 300] [--smoke] [--report FILE]
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "fake_collector_api.h"
#include "http_test_client.h"
#include "report.h"
#include "zc/exporters/exporters.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Figures {
  double p50, p99, mean;
};

Figures summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  return {at(0.50), at(0.99), sum / ms.size()};
}

template <typename Fn>
std::vector<double> timeIt(int n, Fn fn) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    fn();
    out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  zc::bench::Report report(argc, argv);
  int deployments = report.smoke() ? 20 : 200, requests = report.smoke() ? 30 : 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--deployments")) deployments = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--requests")) requests = std::atoi(argv[i + 1]);
  }
  requests = std::clamp(requests, 10, 10000);
  zc::testing::FakeCollectorApi api;
  std::vector<zc::host::DeploymentGauges> gauges;
  for (int i = 0; i < deployments; ++i) {
    zc::host::DeploymentGauges g;
    g.row.id = "deployment-" + std::to_string(i);
    g.row.status = static_cast<zc::DeploymentStatus>(i % 4);
    g.row.lastExitCode = i % 3 == 0 ? std::optional<int>(137) : std::nullopt;
    g.hasSample = true;
    g.cpuSecondsTotal = 100.0 + i;
    g.cpuPct = i % 100;
    g.memUsedBytes = 1e8 + i;
    g.memLimitBytes = 1536.0 * 1024 * 1024;
    g.linesStdout = 1000u * i;
    g.linesStderr = 10u * i;
    g.linesSystem = i;
    g.crashes = i % 5;
    g.consecutiveHealthFailures = i % 3;
    gauges.push_back(g);
  }
  api.setDeploymentGauges(gauges);

  zc::exporters::HttpServerOptions http;
  http.port = 0;
  zc::exporters::HttpServer server(http);
  auto ex = zc::exporters::registerExporters(server, api, {});
  if (!ex.isOk() || !server.start().isOk()) {
    std::fprintf(stderr, "cannot start the server\n");
    return 1;
  }
  const uint16_t port = server.port();

  size_t bytes = 0;
  // Warm up (first scrape creates every series).
  for (int i = 0; i < 5; ++i) bytes = zc::testing::httpRequest(port, "GET", "/metrics").body.size();

  auto metrics = summarise(timeIt(requests, [&] {
    auto r = zc::testing::httpRequest(port, "GET", "/metrics");
    if (r.status != 200) std::fprintf(stderr, "status %d\n", r.status);
  }));
  auto healthz =
      summarise(timeIt(requests, [&] { zc::testing::httpRequest(port, "GET", "/healthz"); }));
  auto inProcess = summarise(timeIt(requests, [&] { (*ex)->prometheus().scrape(); }));
  prometheus::Registry empty;
  auto emptySerialise = summarise(timeIt(requests, [&] {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, empty.Collect());
  }));

  std::printf("bench_scrape: %d deployments, %d requests each, exposition %zu bytes\n", deployments,
              requests, bytes);
  std::printf(
      "  GET /metrics            p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms  (goal < 20 ms)\n",
      metrics.p50, metrics.p99, metrics.mean);
  std::printf("  GET /healthz (baseline) p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms\n", healthz.p50,
              healthz.p99, healthz.mean);
  std::printf("  scrape() in process     p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms\n",
              inProcess.p50, inProcess.p99, inProcess.mean);
  std::printf("  empty registry serialise p50 %7.4f ms\n", emptySerialise.p50);
  std::printf("  ratio /metrics : /healthz (p50) = %.1fx\n", metrics.p50 / healthz.p50);

  api.setDeploymentGauges({});
  size_t bytesEmpty = zc::testing::httpRequest(port, "GET", "/metrics").body.size();
  const std::string scenario = "GET /metrics, " + std::to_string(deployments) + " deployments";
  const std::string goal = "goal p99 < 20 ms";
  report.add({"scrape", scenario, "p50", "ms", metrics.p50, "GET /healthz, same server",
              healthz.p50, zc::bench::Better::kLower, goal});
  report.add({"scrape", scenario, "p99", "ms", metrics.p99, "GET /healthz, same server",
              healthz.p99, zc::bench::Better::kLower, goal});
  report.add(
      {"scrape", scenario, "size", "bytes", static_cast<double>(bytes),
       "same exposition, no deployment", static_cast<double>(bytesEmpty), zc::bench::Better::kLower,
       std::to_string((bytes - bytesEmpty) / std::max(1, deployments)) + " bytes per deployment"});
  server.stop();
  return 0;
}
