#include "health_route.h"

#include <spdlog/spdlog.h>

#include "zc/exporters/json_writer.h"

namespace zc::exporters {

std::string healthJson(const host::CollectorHealth& h, const std::string& version) {
  bool runtimeOk = !h.runtimeConfigured || h.runtimeConnected;
  JsonWriter w;
  w.beginObject();
  // Containers ignored because another container holds the deployment they claim; only when
  // there are some.
  if (!h.claimConflicts.empty()) {
    w.key("conflicts").beginArray();
    for (const host::ClaimConflict& c : h.claimConflicts) {
      w.beginObject();
      w.key("containerId").string(c.containerId);
      w.key("containerName").string(c.containerName);
      w.key("deploymentId").string(c.deploymentId);
      w.key("reason").string(c.reason);
      w.endObject();
    }
    w.endArray();
  }
  w.key("deployments").unsignedInteger(h.deployments);
  w.key("host").beginObject();
  w.key("advertiseUrl").stringOrNull(h.advertiseUrl);
  w.key("id").string(h.hostId);
  w.endObject();
  if (h.hasMetricsSampler) {
    w.key("metricsSampler").beginObject();
    w.key("lastSweepMs").number(h.lastSweepMs);
    w.key("lastSweepStored").unsignedInteger(h.lastSweepStored);
    w.key("lastSweepTargets").unsignedInteger(h.lastSweepTargets);
    w.key("sweeps").unsignedInteger(h.sweeps);
    w.endObject();
  }
  w.key("pipeline").beginObject();
  w.key("batchesCommitted").unsignedInteger(h.batchesCommitted);
  w.key("commitFailures").unsignedInteger(h.commitFailures);
  w.key("linesIngested").unsignedInteger(h.linesIngested);
  w.endObject();
  w.key("runtime").beginObject();
  w.key("connected").boolean(h.runtimeConnected);
  w.key("follows").unsignedInteger(h.activeFollows);
  w.key("plugin").string(h.runtimePlugin);
  w.endObject();
  if (h.hasSink) {
    // "reachable", not "connected": the runtime's key stays the only "connected".
    w.key("sink").beginObject();
    if (!h.sinkConnected) w.key("detail").string(h.sinkDetail);
    w.key("lagLines").unsignedInteger(h.forwardLagLines);
    w.key("lagSeconds").number(h.forwardLagSeconds);
    w.key("linesForwarded").unsignedInteger(h.linesForwarded);
    w.key("plugin").string(h.sinkPlugin);
    w.key("reachable").boolean(h.sinkConnected);
    w.endObject();
  }
  w.key("status").string(h.storageOk && runtimeOk ? "ok" : "degraded");
  w.key("storage").beginObject();
  if (!h.storageOk) w.key("detail").string(h.storageDetail);
  w.key("ok").boolean(h.storageOk);
  w.key("plugin").string(h.storagePlugin);
  w.endObject();
  w.key("version").string(version);
  w.endObject();
  return w.take();
}

std::string healthStatusJson(const host::CollectorHealth& h) {
  bool runtimeOk = !h.runtimeConfigured || h.runtimeConnected;
  JsonWriter w;
  w.beginObject().key("status").string(h.storageOk && runtimeOk ? "ok" : "degraded").endObject();
  return w.take();
}

int healthHttpStatus(const host::CollectorHealth& h) {
  return h.storageOk && !h.runtimeAwayTooLong ? 200 : 503;
}

std::string readyJson(const host::CollectorHealth& h) {
  JsonWriter w;
  w.beginObject();
  w.key("checks").beginObject();
  w.key("discovery").boolean(h.discoveryDone);
  w.key("storage").boolean(h.storageOpen);
  w.endObject();
  w.key("ready").boolean(readyHttpStatus(h) == 200);
  w.endObject();
  return w.take();
}

int readyHttpStatus(const host::CollectorHealth& h) {
  return h.storageOpen && h.discoveryDone ? 200 : 503;
}

Handler healthHandler(host::CollectorApi& api) {
  return [&api](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp,
                const PathParams&) {
    try {
      const host::CollectorHealth health = api.health();
      if (!requesterOf(req).fullAccess) {
        return sendJsonText(resp, healthHttpStatus(health), healthStatusJson(health));
      }
      sendJsonText(resp, healthHttpStatus(health), healthJson(health, api.version()));
    } catch (const std::exception& e) {
      spdlog::error("/healthz: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "health failed inside the collector");
    }
  };
}

Handler readyHandler(host::CollectorApi& api) {
  return [&api](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp,
                const PathParams&) {
    try {
      const host::CollectorHealth health = api.health();
      sendJsonText(resp, readyHttpStatus(health), readyJson(health));
    } catch (const std::exception& e) {
      spdlog::error("/readyz: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "readiness failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
