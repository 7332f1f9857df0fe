#include "log_download.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "api_json.h"
#include "json_response.h"
#include "poco_adapters.h"
#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"

namespace zc::exporters {
namespace {

constexpr size_t kPieceLines = 4096;
constexpr size_t kPieceBytes = 256 * 1024;

// Where a download is; shared by the producer's copies.
struct Download {
  host::CollectorApi* api;
  std::string id;
  DownloadQuery q;
  uint64_t cursor;  // lines after this lineNo are still to be sent
};

// Appends the lines of `page` up to q.until; false once the range or the log is exhausted.
bool appendPiece(Download& d, const plugin::LogPage& page, std::string& piece) {
  size_t textBytes = 0;
  for (const auto& l : page.lines) {
    if (d.q.until && l.lineNo > *d.q.until) return false;
    if (d.q.ndjson) {
      JsonWriter w;
      writeLogLine(w, l);
      piece += w.text();
    } else {
      piece += l.text;
    }
    piece += '\n';
    textBytes += l.text.size();
    d.cursor = l.lineNo;
  }
  if (d.q.until && d.cursor >= *d.q.until) return false;
  return page.lines.size() == kPieceLines || textBytes >= kPieceBytes;
}

}  // namespace

Handler downloadLogsHandler(host::CollectorApi& api) {
  return [&api](Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp,
                const PathParams& params) {
    try {
      const std::string& id = params.at("id");
      if (Status st = validateDeploymentId(id); !st.isOk()) {
        return sendError(resp, 400, "invalid_id", st.message());
      }
      auto q = parseDownloadQuery(rawQueryOf(req.getURI()));
      if (!q.isOk()) return sendError(resp, 400, "invalid_parameter", q.status().message());
      auto own = dynamic_cast<ServerResponse*>(&resp);
      if (own == nullptr) return sendError(resp, 500, "internal", "no streaming response");
      // The first piece now: an unknown deployment is a 404, not an empty file.
      auto d = std::make_shared<Download>(Download{&api, id, *q, q->since});
      auto first = api.readLogs(id, d->cursor, plugin::LogReadLimit(kPieceLines, kPieceBytes));
      if (!first.isOk()) {
        if (first.status().code() == Status::Code::kNotFound) {
          return sendError(resp, 404, "not_found", "unknown deployment");
        }
        spdlog::error("download logs: {}", first.status().toString());
        return sendError(resp, 500, "internal", "reading the log failed inside the collector");
      }
      auto pending = std::make_shared<std::string>();
      bool more = appendPiece(*d, *first, *pending);
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
      resp.setContentType(q->ndjson ? "application/x-ndjson" : "text/plain; charset=utf-8");
      resp.set("Content-Disposition", "attachment; filename=\"" + id +
                                          (q->ndjson ? ".ndjson\"" : ".log\""));
      resp.set("Cache-Control", "no-store");
      own->setProducer([d, pending, more](std::string& piece) mutable -> Result<bool> {
        if (!pending->empty()) {  // the piece read by the handler
          piece.swap(*pending);
          return more;
        }
        auto page = d->api->readLogs(d->id, d->cursor,
                                     plugin::LogReadLimit(kPieceLines, kPieceBytes));
        if (!page.isOk()) return page.status();
        return appendPiece(*d, *page, piece);
      });
    } catch (const std::exception& e) {
      spdlog::error("download logs: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "download failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
