#include "sse_format.h"

#include "api_json.h"
#include "response_head.h"
#include "zc/exporters/json_writer.h"

namespace zc::exporters {

std::string sseResponseHead() {
  ResponseHead head;
  head.status = 200;
  head.fields = {{"Content-Type", "text/event-stream"},
                 {"Cache-Control", "no-cache"},
                 {"X-Accel-Buffering", "no"}};
  head.keepAlive = false;
  return writeResponseHead(head);
}

std::string sseRetry(int retryMs) {
  return "retry: " + std::to_string(retryMs) + "\n\n";
}

std::string sseLogEvent(const LogLine& line) {
  std::string ev = "event: log\nid: " + std::to_string(line.lineNo) + "\ndata: ";
  ev += sseLineJson(line);
  ev += "\n\n";
  return ev;
}

std::string sseLineJson(const LogLine& line) {
  JsonWriter w;
  writeLogLine(w, line);
  return w.text();
}

std::string_view sseLogEventData(std::string_view event) noexcept {
  constexpr std::string_view kData = "\ndata: ";
  size_t at = event.find(kData);
  if (at == std::string_view::npos || event.size() < at + kData.size() + 2) return {};
  event.remove_prefix(at + kData.size());
  event.remove_suffix(2);  // the closing blank line
  return event;
}

std::string sseLinesEvent(uint64_t lastLineNo, std::string_view joined) {
  std::string ev = "event: lines\nid: " + std::to_string(lastLineNo) + "\ndata: [";
  ev.reserve(ev.size() + joined.size() + 3);
  ev += joined;
  ev += "]\n\n";
  return ev;
}

std::string sseResetEvent(uint64_t lastLineNo) {
  JsonWriter w;
  w.beginObject().key("lastLineNo").unsignedInteger(lastLineNo).endObject();
  return "event: reset\nid: " + std::to_string(lastLineNo) + "\ndata: " + w.text() + "\n\n";
}

std::string sseStatusEvent(DeploymentStatus status) {
  JsonWriter w;
  w.beginObject().key("status").string(toString(status)).endObject();
  return "event: status\ndata: " + w.text() + "\n\n";
}

}  // namespace zc::exporters
