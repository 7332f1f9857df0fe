#include "sse_stream.h"

#include "sse_format.h"

namespace zc::exporters {

void SseStream::append(std::string_view text) {
  if (outOff == out.size()) {
    out.clear();
    outOff = 0;
    lastProgress = Clock::now();
  }
  out.append(text);
  lastQueued = Clock::now();
}

void SseStream::appendLine(const LogLine& line) {
  append(sseLogEvent(line));
  lastSent = line.lineNo;
}

void SseStream::appendStatus(DeploymentStatus s) {
  status = s;
  append(sseStatusEvent(s));
}

void SseStream::appendReset(uint64_t lastLineNo) {
  append(sseResetEvent(lastLineNo));
  lastSent = lastLineNo;
}

}  // namespace zc::exporters
