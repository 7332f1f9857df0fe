// The REST API of issue 5 over a CollectorApi:
//   GET    /api/deployments                       {"deployments":[Deployment...]}, newest first
//   GET    /api/deployments/{id}                  Deployment
//   GET    /api/deployments/{id}/logs             ?since|after=&limit= -> {"lines","nextSince",
//                                                 "oldestLineNo"}
//   GET    /api/deployments/{id}/metrics          ?from=&to= -> {"samples":[...]}
//   DELETE /api/deployments/{id}                  202 {"id","status"}
//   GET    /api/ports                             {"ports":[{"port","deploymentId","status"}]}
// Errors are {"error":"<code>","message":"..."}: 400 invalid_id / invalid_parameter, 404
// not_found, 500 internal only when the collector itself fails (never for bad input).
//
// Thread-safety: the handlers run concurrently; `api` must be thread-safe (it is by contract).
#pragma once

#include "zc/exporters/http_server.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

// OWNERSHIP: `api` must outlive the server's running state.
void registerRestRoutes(HttpServer& server, host::CollectorApi& api);

}  // namespace zc::exporters
