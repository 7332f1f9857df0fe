#include "fleet_targets_route.h"

#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include "zc/exporters/json_writer.h"

namespace zc::exporters {

std::optional<ScrapeTarget> scrapeTargetOf(const std::string& advertiseUrl) {
  try {
    Poco::URI uri(advertiseUrl);
    if ((uri.getScheme() != "http" && uri.getScheme() != "https") || uri.getHost().empty()) {
      return std::nullopt;
    }
    ScrapeTarget t;
    t.scheme = uri.getScheme();
    const bool ipv6 = uri.getHost().find(':') != std::string::npos;
    t.address = (ipv6 ? "[" + uri.getHost() + "]" : uri.getHost()) + ":" +
                std::to_string(uri.getPort());  // getPort(): the scheme's default when none
    std::string path = uri.getPath();
    while (!path.empty() && path.back() == '/') path.pop_back();
    t.metricsPath = path + "/metrics";
    return t;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

std::string fleetTargetsJson(const std::vector<plugin::HostRecord>& hosts) {
  JsonWriter w;
  w.beginArray();
  for (const plugin::HostRecord& h : hosts) {
    auto t = scrapeTargetOf(h.advertiseUrl);
    if (!t) {
      spdlog::warn("prometheus targets: host '{}' advertises an unusable URL", h.hostId);
      continue;
    }
    w.beginObject().key("targets").beginArray().string(t->address).endArray();
    w.key("labels").beginObject();
    w.key("__metrics_path__").string(t->metricsPath);
    w.key("__scheme__").string(t->scheme);
    w.key("host").string(h.hostId);
    w.endObject().endObject();
  }
  w.endArray();
  return w.text();
}

Handler fleetTargetsHandler(host::CollectorApi& api) {
  return [&api](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp,
                const PathParams&) {
    try {
      auto hosts = api.liveHosts();
      if (!hosts.isOk()) {
        if (hosts.status().code() == Status::Code::kFailedPrecondition) {
          return sendError(resp, 404, "not_central", hosts.status().message());
        }
        resp.set("Retry-After", "1");
        return sendError(resp, 503, "unavailable", "the fleet's hosts cannot be read now");
      }
      sendJsonText(resp, 200, fleetTargetsJson(*hosts));
    } catch (const std::exception& e) {
      spdlog::error("/api/prometheus/targets: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "targets failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
