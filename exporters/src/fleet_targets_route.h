// GET /api/prometheus/targets: Prometheus HTTP service discovery (http_sd) on a central
// instance. One target group per live host collector (CollectorApi::liveHosts()): its
// --advertise-url as host:port, the scheme and path prefix as __scheme__ / __metrics_path__,
// and `host` (its --host-id) as a label:
//   [{"targets":["10.0.0.5:7070"],"labels":{"__metrics_path__":"/metrics",
//     "__scheme__":"http","host":"h1"}}]
// A collector that is not central answers 404 {"error":"not_central"}; an advertise URL that
// is not http(s)://host[:port][/path] is left out (and logged).
//
// Thread-safety: runs concurrently on the workers. OWNERSHIP: `api` outlives the server.
#pragma once

#include <optional>
#include <string>

#include "zc/exporters/http_server.h"
#include "zc/host/collector_api.h"

namespace zc::exporters {

// The http_sd target of an advertise URL: "host:port" (the scheme's default port when none),
// scheme and metrics path; nullopt when the URL is not http(s)://host[:port][/path].
struct ScrapeTarget {
  std::string address;
  std::string scheme;
  std::string metricsPath;
};
std::optional<ScrapeTarget> scrapeTargetOf(const std::string& advertiseUrl);

// The http_sd JSON for `hosts`.
std::string fleetTargetsJson(const std::vector<plugin::HostRecord>& hosts);

Handler fleetTargetsHandler(host::CollectorApi& api);

}  // namespace zc::exporters
