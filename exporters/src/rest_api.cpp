#include "rest_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "api_json.h"
#include "log_search.h"
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

// `?host=NAME` of the list (a fleet's central instance serves every host): NAME is a --host-id
// (1-64 of letters, digits, '.', '_', '-'); empty when absent. InvalidArgument otherwise.
static Result<std::string> hostFilterOf(std::string_view rawQuery) {
  ZC_ASSIGN_OR_RETURN(std::vector<QueryParam> params, parseQueryString(rawQuery));
  std::string host;
  for (const QueryParam& p : params) {
    if (p.name != "host") continue;
    const bool valid =
        !p.value.empty() && p.value.size() <= 64 &&
        std::all_of(p.value.begin(), p.value.end(), [](unsigned char c) {
          return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
        });
    if (!valid) {
      return Status::invalidArgument("host: 1-64 letters, digits, '.', '_' or '-' expected");
    }
    host = p.value;
  }
  return host;
}

Handler listDeploymentsHandler(host::CollectorApi& api) {
  return [&api](HTTPServerRequest& req, HTTPServerResponse& resp, const PathParams&) {
    try {
      auto host = hostFilterOf(rawQueryOf(req.getURI()));
      if (!host.isOk()) return sendError(resp, 400, "invalid_parameter", host.status().message());
      std::vector<Deployment> all = api.listDeployments();
      JsonWriter w;
      w.beginObject().key("deployments").beginArray();
      for (const auto& d : all) {
        if (host->empty() || d.host == *host) writeDeployment(w, d);
      }
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

Handler readLogsHandler(host::CollectorApi& api, size_t maxPageBytes) {
  return withId("read logs", [&api, maxPageBytes](HTTPServerRequest& req,
                                                  HTTPServerResponse& resp, const std::string& id) {
    auto q = parseLogQuery(rawQueryOf(req.getURI()));
    if (!q.isOk()) return sendError(resp, 400, "invalid_parameter", q.status().message());
    if (q->fromTs) {
      auto since = sinceForTime(api, id, *q->fromTs);
      if (!since.isOk()) return sendStatus(resp, since.status(), "read logs");
      q->since = *since;
    }
    if (q->searching()) {
      auto matcher = LineMatcher::make(*q);
      if (!matcher.isOk()) {
        return sendError(resp, 400, "invalid_pattern", matcher.status().message());
      }
      JsonWriter w;
      Status st = writeSearchPage(w, api, id, *q, *matcher, maxPageBytes);
      if (!st.isOk()) return sendStatus(resp, st, "search logs");
      return sendJsonText(resp, 200, w.take());
    }
    // Storage is read in slices of at most kSliceBytes of text, each formatted and dropped before
    // the next, so that a page of huge lines holds little more than its own JSON. The JSON stops
    // before the line that would take it past maxPageBytes (escaping can make a line six times
    // its text); the first line is always sent, and nextSince continues after the last one.
    constexpr size_t kSliceLines = 512;
    constexpr size_t kSliceBytes = 256 * 1024;
    JsonWriter w;
    w.reserve(std::min<size_t>(maxPageBytes, q->limit * size_t{256}) + 256);
    w.beginObject().key("lines").beginArray();
    uint64_t nextSince = q->since;
    uint64_t oldest = 0;
    size_t left = q->limit;
    bool first = true;  // no slice read yet
    bool more = true;
    while (more && left > 0) {
      auto page = api.readLogs(id, nextSince,
                               plugin::LogReadLimit(std::min(left, kSliceLines), kSliceBytes));
      if (!page.isOk()) return sendStatus(resp, page.status(), "read logs");
      if (first) oldest = page->oldestLineNo;
      first = false;
      size_t textBytes = 0;
      for (const auto& l : page->lines) textBytes += l.text.size();
      more = page->lines.size() == std::min(left, kSliceLines) || textBytes >= kSliceBytes;
      for (const auto& l : page->lines) {
        const bool any = nextSince != q->since;
        if (any && w.text().size() + l.text.size() > maxPageBytes) {
          more = false;
          break;
        }
        const size_t mark = w.text().size();
        writeLogLine(w, l);
        if (any && w.text().size() > maxPageBytes) {
          w.truncate(mark);
          more = false;
          break;
        }
        nextSince = l.lineNo;
        --left;
      }
      if (page->lines.empty()) more = false;
    }
    w.endArray();
    w.key("nextSince").unsignedInteger(nextSince);
    w.key("oldestLineNo").unsignedInteger(oldest);
    w.endObject();
    sendJsonText(resp, 200, w.take());
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
