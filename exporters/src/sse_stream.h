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
#include "zc/exporters/transport.h"
#include "zc/host/live_bus.h"
#include "zc/model.h"

namespace zc::exporters {

struct SseStream {
  using Clock = std::chrono::steady_clock;

  uint64_t token = 0;
  std::unique_ptr<Transport> io;  // the client connection (plain or TLS)
  int fd = -1;                    // io's descriptor, for epoll
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
  Clock::time_point lastQueued;
  Clock::time_point lastProgress;
  Clock::time_point lastTeardownCheck;

  // Bytes formatted and not yet sent.
  size_t buffered() const noexcept { return out.size() - outOff; }
  void append(std::string_view text);
  // A log event for `line`; lastSent becomes its lineNo.
  void appendLine(const LogLine& line);
  void appendStatus(DeploymentStatus s);
  // A reset event (see sseResetEvent()); lastSent becomes `lastLineNo`.
  void appendReset(uint64_t lastLineNo);
};

}  // namespace zc::exporters
