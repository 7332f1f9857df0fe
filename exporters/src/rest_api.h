// The REST API's handlers over a CollectorApi (registered by registerRoutes(), routes.h):
//   GET    /api/deployments                 listDeploymentsHandler  {"deployments":[...]}, newest
//                                                                   first
//   GET    /api/deployments/{id}            getDeploymentHandler    Deployment
//   GET    /api/deployments/{id}/logs       readLogsHandler         ?since|after=&limit= ->
//                                                                   {"lines","nextSince",
//                                                                   "oldestLineNo"}
//   GET    /api/deployments/{id}/metrics    readMetricsHandler      ?from=&to= -> {"samples"}
//   DELETE /api/deployments/{id}            stopDeploymentHandler   202 {"id","status"}
//   GET    /api/ports                       listPortsHandler        {"ports":[{"port",
//                                                                   "deploymentId","status"}]}
// Errors are {"error":"<code>","message":"..."}: 400 invalid_id / invalid_parameter, 404
// not_found, 500 internal only when the collector itself fails (never for bad input).
//
// Thread-safety: the handlers run concurrently; `api` must be thread-safe (it is by contract).
// OWNERSHIP: `api` must outlive the server's running state.
#pragma once

#include "zc/exporters/http_server.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

Handler listDeploymentsHandler(host::CollectorApi& api);
Handler getDeploymentHandler(host::CollectorApi& api);
Handler stopDeploymentHandler(host::CollectorApi& api);
// A page's body stops before the line that would take it past `maxPageBytes` (its first line is
// always sent); nextSince continues from the last line sent.
Handler readLogsHandler(host::CollectorApi& api, size_t maxPageBytes);
Handler readMetricsHandler(host::CollectorApi& api);
Handler listPortsHandler(host::CollectorApi& api);

}  // namespace zc::exporters
