// The handshake of GET /api/deployments/{id}/logs/stream, on an HTTP worker: validates the id,
// `?since=` and `Last-Event-ID`, checks the deployment exists, picks the starting position
// (Last-Event-ID, else since, else the last defaultBackfillLines lines), reserves one of the
// hub's slots (503 + Retry-After at the cap), takes the connection from the HTTP server and
// hands it to SseHub::addStream(), which writes the response head. HEAD answers the head only.
//
// Thread-safety: the handler runs concurrently on the workers. OWNERSHIP: `api` and `hub` must
// outlive the server's running state.
#pragma once

#include "zc/exporters/http_server.h"
#include "zc/exporters/sse_hub.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

Handler logStreamHandler(host::CollectorApi& api, SseHub& hub);

}  // namespace zc::exporters
