// GET /healthz: the collector's health as JSON, from CollectorApi::health():
//   {"deployments":N,
//    "metricsSampler":{"lastSweepMs","lastSweepStored","lastSweepTargets","sweeps"},
//    "pipeline":{"batchesCommitted","commitFailures","linesIngested"},
//    "runtime":{"connected","follows","plugin"},
//    "status":"ok"|"degraded",
//    "storage":{"detail","ok","plugin"},
//    "version"}
// With tokens on, a request without a token gets only {"status":"ok"|"degraded"}.
// metricsSampler only when a sampler runs, storage.detail only when storage is not ok.
// Members are written in this (alphabetical) order, the order earlier versions wrote. Status is
// "degraded" when storage is unhealthy or a runtime is configured and not connected.
// The HTTP status is what a liveness probe or a load balancer reads: 503 while storage is
// unhealthy or the runtime has been away longer than host::kRuntimeDegradedAfter (30 s, so that
// an engine restart does not fail the probe), else 200; the body is the same either way.
//
// GET /readyz: {"checks":{"discovery":bool,"storage":bool},"ready":bool}, 200 once storage is
// open and the first discovery is done, 503 before. It never goes back to 503 (health is
// /healthz's job). Like /healthz, it answers without a token.
//
// Thread-safety: runs concurrently on the workers. OWNERSHIP: `api` must outlive the server's
// running state.
#pragma once

#include <string>

#include "zc/exporters/http_server.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

// The JSON body for `health` and `version`.
std::string healthJson(const host::CollectorHealth& health, const std::string& version);

// {"status":"ok"|"degraded"} alone, for requests without a token when tokens are on.
std::string healthStatusJson(const host::CollectorHealth& health);

// 200, or 503 while degraded as above.
int healthHttpStatus(const host::CollectorHealth& health);

// The /readyz body and its status (200 ready, 503 not yet).
std::string readyJson(const host::CollectorHealth& health);
int readyHttpStatus(const host::CollectorHealth& health);

Handler healthHandler(host::CollectorApi& api);
Handler readyHandler(host::CollectorApi& api);

}  // namespace zc::exporters
