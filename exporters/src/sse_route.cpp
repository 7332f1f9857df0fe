#include "sse_route.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "zc/exporters/query.h"

namespace zc::exporters {
namespace {

using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// What the client asks for: its position (Last-Event-ID wins over ?since=) and the format.
struct Position {
  std::optional<uint64_t> lastEventId;
  std::optional<uint64_t> since;
  bool batch = false;  // ?batch=1
};

// Parses the position the client asks for; false with the 400 written.
bool parsePosition(HTTPServerRequest& req, HTTPServerResponse& resp, Position& pos) {
  auto query = parseStreamQuery(rawQueryOf(req.getURI()));
  if (!query.isOk()) {
    sendError(resp, 400, "invalid_parameter", query.status().message());
    return false;
  }
  pos.since = query->since;
  pos.batch = query->batch;
  if (req.has("Last-Event-ID")) {
    auto v = parseLastEventId(req.get("Last-Event-ID"));
    if (!v.isOk()) {
      sendError(resp, 400, "invalid_parameter", v.status().message());
      return false;
    }
    pos.lastEventId = *v;
  }
  return true;
}

// The lineNo after which lines are sent; without a position, the last defaultBackfillLines.
// False with the 500 written.
bool startAfter(host::CollectorApi& api, const SseHub& hub, const Position& pos,
                HTTPServerResponse& resp, const std::string& id, uint64_t& start) {
  if (pos.lastEventId || pos.since) {
    start = pos.lastEventId ? *pos.lastEventId : *pos.since;
    return true;
  }
  auto page = api.readLogs(id, 0, 0);
  if (!page.isOk()) {
    spdlog::error("sse {}: {}", id, page.status().toString());
    sendError(resp, 500, "internal", "cannot read the log");
    return false;
  }
  uint64_t last = page->nextLineNo - 1;
  uint64_t n = hub.options().defaultBackfillLines;
  start = last > n ? last - n : 0;
  return true;
}

void openStream(host::CollectorApi& api, SseHub& hub, HTTPServerRequest& req,
                HTTPServerResponse& resp, const std::string& id) {
  if (Status st = validateDeploymentId(id); !st.isOk()) {
    return sendError(resp, 400, "invalid_id", st.message());
  }
  Position pos;
  if (!parsePosition(req, resp, pos)) return;
  auto row = api.getDeployment(id);
  if (!row.isOk()) {
    if (row.status().isNotFound()) return sendError(resp, 404, "not_found", "unknown deployment");
    if (row.status().code() == Status::Code::kInvalidArgument) {
      return sendError(resp, 400, "invalid_id", row.status().message());
    }
    spdlog::error("sse {}: {}", id, row.status().toString());
    return sendError(resp, 500, "internal", "cannot read the deployment");
  }
  if (req.getMethod() == "HEAD") {
    resp.setContentType("text/event-stream");
    resp.set("Cache-Control", "no-cache");
    resp.send();
    return;
  }
  uint64_t start = 0;
  if (!startAfter(api, hub, pos, resp, id, start)) return;
  if (!hub.tryReserve()) {
    resp.set("Retry-After", std::to_string(hub.options().retryAfterSeconds));
    return sendError(resp, 503, "too_many_streams", "too many open log streams; retry later");
  }
  int fd = detachConnection(req);
  if (fd < 0) {
    hub.release();
    return sendError(resp, 500, "internal", "cannot take over the connection");
  }
  Status st = hub.addStream(fd, id, start, row->status, pos.batch);
  if (!st.isOk()) spdlog::warn("sse {}: {}", id, st.toString());
}

}  // namespace

Handler logStreamHandler(host::CollectorApi& api, SseHub& hub) {
  return [&api, &hub](HTTPServerRequest& req, HTTPServerResponse& resp, const PathParams& params) {
    try {
      openStream(api, hub, req, resp, params.at("id"));
    } catch (const std::exception& e) {
      spdlog::error("sse: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "the request failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
