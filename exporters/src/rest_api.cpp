#include "rest_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api_json.h"
#include "zc/clock.h"
#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"

namespace zc::exporters {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// Answers a failed CollectorApi call: bad input is 400, unknown is 404, anything else is the
// collector's own failure (logged, 500 or 503).
void sendStatus(HTTPServerResponse& resp, const Status& st, std::string_view what) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument:
      return sendError(resp, 400, "invalid_argument", st.message());
    case Status::Code::kNotFound:
      return sendError(resp, 404, "not_found", "unknown deployment");
    case Status::Code::kUnavailable:
      resp.set("Retry-After", "1");
      return sendError(resp, 503, "unavailable", std::string(what) + ": temporarily unavailable");
    default:
      spdlog::error("{}: {}", what, st.toString());
      return sendError(resp, 500, "internal", std::string(what) + " failed inside the collector");
  }
}

// Wraps a handler with the id check and the catch-all mapping to a JSON 500.
template <typename Fn>
Handler withId(std::string_view what, Fn fn) {
  return [what = std::string(what), fn](HTTPServerRequest& req, HTTPServerResponse& resp,
                                        const PathParams& params) {
    try {
      const std::string& id = params.at("id");
      if (Status st = validateDeploymentId(id); !st.isOk()) {
        return sendError(resp, 400, "invalid_id", st.message());
      }
      fn(req, resp, id);
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", what, e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", what + " failed inside the collector");
    }
  };
}

}  // namespace

Handler listDeploymentsHandler(host::CollectorApi& api) {
  return [&api](HTTPServerRequest&, HTTPServerResponse& resp, const PathParams&) {
    try {
      std::vector<Deployment> all = api.listDeployments();
      JsonWriter w;
      w.beginObject().key("deployments").beginArray();
      for (const auto& d : all) writeDeployment(w, d);
      w.endArray().endObject();
      sendJsonText(resp, 200, w.text());
    } catch (const std::exception& e) {
      spdlog::error("list deployments: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "listing failed inside the collector");
    }
  };
}

Handler getDeploymentHandler(host::CollectorApi& api) {
  return withId("get deployment",
                [&api](HTTPServerRequest&, HTTPServerResponse& resp, const std::string& id) {
                  auto d = api.getDeployment(id);
                  if (!d.isOk()) return sendStatus(resp, d.status(), "get deployment");
                  JsonWriter w;
                  writeDeployment(w, *d);
                  sendJsonText(resp, 200, w.text());
                });
}

Handler stopDeploymentHandler(host::CollectorApi& api) {
  return withId("stop deployment",
                [&api](HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& id) {
                  const Requester& who = requesterOf(req);
                  auto d = api.requestStop(id, host::StopRequester{who.tokenName, who.address});
                  if (!d.isOk()) return sendStatus(resp, d.status(), "stop deployment");
                  JsonWriter w;
                  w.beginObject().key("id").string(d->id);
                  w.key("status").string(toString(d->status)).endObject();
                  sendJsonText(resp, 202, w.text());
                });
}

Handler readLogsHandler(host::CollectorApi& api) {
  return withId("read logs", [&api](HTTPServerRequest& req, HTTPServerResponse& resp,
                                    const std::string& id) {
    auto q = parseLogQuery(rawQueryOf(req.getURI()));
    if (!q.isOk()) return sendError(resp, 400, "invalid_parameter", q.status().message());
    auto page = api.readLogs(id, q->since, q->limit);
    if (!page.isOk()) return sendStatus(resp, page.status(), "read logs");
    JsonWriter w;
    w.beginObject().key("lines").beginArray();
    for (const auto& l : page->lines) writeLogLine(w, l);
    w.endArray();
    w.key("nextSince").unsignedInteger(page->lines.empty() ? q->since : page->lines.back().lineNo);
    w.key("oldestLineNo").unsignedInteger(page->oldestLineNo);
    w.endObject();
    sendJsonText(resp, 200, w.text());
  });
}

Handler readMetricsHandler(host::CollectorApi& api) {
  return withId("read metrics",
                [&api](HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& id) {
                  auto range = parseMetricsQuery(rawQueryOf(req.getURI()), systemClock().now());
                  if (!range.isOk())
                    return sendError(resp, 400, "invalid_parameter", range.status().message());
                  auto samples = api.readMetrics(id, range->from, range->to);
                  if (!samples.isOk()) return sendStatus(resp, samples.status(), "read metrics");
                  JsonWriter w;
                  w.beginObject().key("samples").beginArray();
                  for (const auto& s : *samples) writeMetricSample(w, s);
                  w.endArray().endObject();
                  sendJsonText(resp, 200, w.text());
                });
}

Handler listPortsHandler(host::CollectorApi& api) {
  return [&api](HTTPServerRequest&, HTTPServerResponse& resp, const PathParams&) {
    try {
      std::vector<Deployment> all = api.listDeployments();
      std::vector<const Deployment*> held;
      for (const auto& d : all) {
        if (d.hostPort) held.push_back(&d);
      }
      std::sort(held.begin(), held.end(), [](const Deployment* a, const Deployment* b) {
        return *a->hostPort != *b->hostPort ? *a->hostPort < *b->hostPort : a->id < b->id;
      });
      JsonWriter w;
      w.beginObject().key("ports").beginArray();
      for (const Deployment* d : held) {
        w.beginObject();
        w.key("port").integer(*d->hostPort);
        w.key("deploymentId").string(d->id);
        w.key("status").string(toString(d->status));
        w.endObject();
      }
      w.endArray().endObject();
      sendJsonText(resp, 200, w.text());
    } catch (const std::exception& e) {
      spdlog::error("list ports: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "listing failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
