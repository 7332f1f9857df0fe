#include "sse_stream.h"

#include "sse_format.h"

namespace zc::exporters {

void SseStream::append(std::string_view text) {
  closeRun();
  if (outOff == out.size()) {
    out.clear();
    outOff = 0;
    lastProgress = Clock::now();
  }
  out.append(text);
  lastQueued = Clock::now();
}

void SseStream::appendLine(const LogLine& line) {
  if (batched) {
    addToRun(sseLineJson(line), line.lineNo);
    return;
  }
  append(sseLogEvent(line));
  lastSent = line.lineNo;
}

void SseStream::appendLogEvent(std::string_view event, uint64_t lineNo) {
  if (!batched) {
    append(event);
    lastSent = lineNo;
    return;
  }
  addToRun(sseLogEventData(event), lineNo);
}

void SseStream::addToRun(std::string_view data, uint64_t lineNo) {
  lastSent = lineNo;
  if (runLines > 0 && (runLines >= kMaxRunLines || run.size() + data.size() > kMaxRunBytes)) {
    closeRun();
  }
  if (runLines > 0) run += ',';
  run += data;
  runLast = lineNo;
  ++runLines;
}

void SseStream::closeRun() {
  if (runLines == 0) return;
  std::string ev = sseLinesEvent(runLast, run);
  run.clear();
  runLines = 0;
  if (run.capacity() > kMaxRunBytes * 2) std::string().swap(run);
  append(ev);
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
