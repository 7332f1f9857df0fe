// The state of one SSE stream on the hub thread: its socket, its position (the last lineNo
// sent), its inbox and subscription, and its output buffer of formatted bytes not yet accepted
// by the socket. The append*() methods add formatted bytes and keep the timestamps the hub's
// heartbeat and stall checks read.
//
// Thread-safety: owned and used by the hub thread only (the inbox is shared, see sse_inbox.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sse_inbox.h"
#include "zc/host/live_bus.h"
#include "zc/model.h"

namespace zc::exporters {

struct SseStream {
  using Clock = std::chrono::steady_clock;
  // A run is written out at whichever comes first.
  static constexpr size_t kMaxRunLines = 1000;
  static constexpr size_t kMaxRunBytes = 64 * 1024;

  uint64_t token = 0;
  int fd = -1;
  std::string id;
  uint64_t lastSent = 0;   // the lineNo of the last line formatted
  bool catchingUp = true;  // backfilling from storage; the inbox waits
  std::shared_ptr<Inbox> inbox;
  host::LiveBus::SubscriptionId sub = 0;
  DeploymentStatus status = DeploymentStatus::kRunning;
  std::string out;  // formatted, sent from outOff
  size_t outOff = 0;
  bool wantWrite = false;   // registered for EPOLLOUT
  host::LineBatch current;  // the live batch being formatted
  size_t currentPos = 0;
  bool endQueued = false;
  bool endWritten = false;
  bool closed = false;
  // Opened with ?batch=1: consecutive lines go out as one `event: lines` (see sse_format.h).
  bool batched = false;
  std::string run;  // batched: the JSON of the lines not yet written out, comma-separated
  uint64_t runLast = 0;
  size_t runLines = 0;
  Clock::time_point lastQueued;
  Clock::time_point lastProgress;
  Clock::time_point lastTeardownCheck;

  // Bytes formatted and not yet sent (the open run included).
  size_t buffered() const noexcept { return out.size() - outOff + run.size(); }
  // Adds bytes after the open run (which is written out first).
  void append(std::string_view text);
  // A log event for `line` (or, batched, the line added to the run); lastSent becomes its lineNo.
  void appendLine(const LogLine& line);
  // The same with the line's event already formatted by sseLogEvent() (shared by streams).
  void appendLogEvent(std::string_view event, uint64_t lineNo);
  // Batched: writes the open run out as one event. The hub calls it before flushing.
  void closeRun();
  void appendStatus(DeploymentStatus s);
  // A reset event (see sseResetEvent()); lastSent becomes `lastLineNo`.
  void appendReset(uint64_t lastLineNo);

 private:
  void addToRun(std::string_view lineJson, uint64_t lineNo);
};

}  // namespace zc::exporters
