#include "routes.h"

#include "fleet_targets_route.h"
#include "health_route.h"
#include "log_download.h"
#include "metrics_route.h"
#include "openapi_route.h"
#include "page_routes.h"
#include "rest_api.h"
#include "session_routes.h"
#include "sse_route.h"

namespace zc::exporters {

void registerRoutes(HttpServer& server, host::CollectorApi& api, SseHub& hub,
                    PrometheusExporter* prometheus, const ExporterOptions& options) {
  const std::string& distDir = options.webDir;
  const AccessControl* access = options.access;
  server.route("GET", "/api/deployments", listDeploymentsHandler(api));
  server.route("GET", "/api/deployments/{id}", getDeploymentHandler(api));
  server.route("DELETE", "/api/deployments/{id}", stopDeploymentHandler(api));
  server.route("GET", "/api/deployments/{id}/logs", readLogsHandler(api, options.maxPageBytes));
  server.route("GET", "/api/deployments/{id}/metrics", readMetricsHandler(api));
  server.route("GET", "/api/deployments/{id}/logs/stream", logStreamHandler(api, hub));
  server.route("GET", "/api/deployments/{id}/logs/download", downloadLogsHandler(api));
  server.route("GET", "/api/ports", listPortsHandler(api));
  server.route("GET", "/api/prometheus/targets", fleetTargetsHandler(api));
  server.route("GET", "/api/openapi.json", openApiHandler());
  if (prometheus != nullptr) server.route("GET", "/metrics", metricsHandler(*prometheus));
  server.route("GET", "/healthz", healthHandler(api));
  server.route("GET", "/readyz", readyHandler(api));
  server.route("GET", kSessionPath, sessionStateHandler(access));
  server.route("POST", kSessionPath, loginHandler(access));
  server.route("DELETE", kSessionPath, logoutHandler(access));
  if (!distDir.empty()) {
    server.route("GET", "/", listPageHandler(distDir));
    server.route("GET", "/d/{id}", detailPageHandler(distDir));
    server.route("GET", "/assets/{file}", assetHandler(distDir));
  }
}

}  // namespace zc::exporters
