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
  JsonWriter w;
  writeLogLine(w, line);
  ev += w.text();
  ev += "\n\n";
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
