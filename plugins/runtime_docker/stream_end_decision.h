// What a follow does once its log stream has ended: the one decision both follow shapes share,
// LoopFollower (on the follow loop, the default) and LogFollower (a thread per follow,
// follow_threads=0). Pure: the caller inspects the container, acts on the answer (deliver,
// finish, wait, reopen) and keeps the state it returns.
//
// The rules:
//   - the container is gone: end NotFound (after delivering the pending line);
//   - the inspect failed: back off, then reopen;
//   - the container is not running and the engine closed the stream: a stopped container's
//     stream can end before the engine has written its last messages, so first wait restartGrace
//     (a `docker restart` passes through "not running" for a moment) and read once more from the
//     cursor (kGrace; afterGrace() gives the drained flag then); end OK only once such a read
//     brought nothing new (kDone);
//   - otherwise reopen from the cursor: at once after a stream that moved the cursor (backoff
//     reset) or a stall, after a backoff otherwise. An idle container stalls every time: each
//     reopen that brings nothing new doubles the stall timeout (a reopen makes the engine scan
//     the log from `since`), up to the maximum; new lines set it back.
// inspectContainer() is the one engine request both make for it.
// Thread-safety: pure functions; inspectContainer() as thread-safe as EngineClient.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "docker_json.h"
#include "engine_client.h"
#include "log_cursor.h"

namespace zc::docker {

// How a stream ended: the engine closed it, it broke, or it stayed quiet past the stall timeout.
enum class StreamEndKind : uint8_t { kClean, kBroken, kStalled };

// What inspecting the container after the end said (kUnknown: the inspect failed).
enum class InspectedState : uint8_t { kRunning, kNotRunning, kGone, kUnknown };

enum class AfterStreamEnd : uint8_t {
  kGone,     // finish the pending line, deliver, end NotFound
  kRetry,    // warn that the inspect failed, back off, reopen
  kDone,     // stopped and read to its end: finish the pending line, deliver, end OK
  kGrace,    // wait restartGrace, inspect again (afterGrace()), reopen
  kReopen,   // reopen from the cursor at once
  kBackoff,  // back off, then reopen
};

struct StreamEndDecision {
  AfterStreamEnd next = AfterStreamEnd::kReopen;
  bool drained = false;                // the follow's new drained flag
  std::chrono::milliseconds stall{0};  // the follow's new stall timeout
  bool resetBackoff = false;           // set the backoff back to its initial value
};

// Whether the stream took new lines: the cursor moved (pieces of a pending line read again do
// not count).
inline bool cursorMoved(const LogCursor& before, const LogCursor& after) noexcept {
  return after.out.lastTs != before.out.lastTs || after.out.count != before.out.count ||
         after.err.lastTs != before.err.lastTs || after.err.count != before.err.count;
}

// `drained`: the container was seen stopped and its log read once more since; `stall`: the
// current stall timeout; `stallTimeout`/`stallTimeoutMax`: the follow's options.
inline StreamEndDecision decideAfterStreamEnd(StreamEndKind how, bool productive,
                                              InspectedState state, bool drained,
                                              std::chrono::milliseconds stall,
                                              std::chrono::milliseconds stallTimeout,
                                              std::chrono::milliseconds stallTimeoutMax) noexcept {
  StreamEndDecision d;
  d.drained = drained;
  d.stall = stall;
  if (state == InspectedState::kGone) {
    d.next = AfterStreamEnd::kGone;
    return d;
  }
  if (state == InspectedState::kUnknown) {
    d.next = AfterStreamEnd::kRetry;
    return d;
  }
  if (state == InspectedState::kRunning) d.drained = false;
  if (state == InspectedState::kNotRunning && how == StreamEndKind::kClean) {
    d.next = d.drained && !productive ? AfterStreamEnd::kDone : AfterStreamEnd::kGrace;
    return d;
  }
  if (how == StreamEndKind::kStalled && !productive) {
    d.stall = std::min(stall * 2, std::max(stallTimeoutMax, stallTimeout));
  } else if (productive) {
    d.stall = stallTimeout;
  }
  if (productive) {
    d.resetBackoff = true;
    d.next = AfterStreamEnd::kReopen;
  } else {
    d.next = how == StreamEndKind::kStalled ? AfterStreamEnd::kReopen : AfterStreamEnd::kBackoff;
  }
  return d;
}

// After the grace wait: the follow is drained unless the second inspect saw it running (a
// failed inspect counts as not running); the backoff starts again; a gone container ends the
// follow (NotFound) instead.
inline bool drainedAfterGrace(InspectedState again) noexcept {
  return again != InspectedState::kRunning;
}

// GET /containers/{id}/json -> the state; on kUnknown `*failure` (if given) says why.
inline InspectedState inspectContainer(EngineClient& engine, const std::string& containerId,
                                       Status* failure = nullptr) {
  auto info = engine.getObject("/containers/" + containerId + "/json");
  if (!info.isOk()) {
    if (info.status().isNotFound()) return InspectedState::kGone;
    if (failure != nullptr) *failure = info.status();
    return InspectedState::kUnknown;
  }
  return inspectRunning(info.value()) ? InspectedState::kRunning : InspectedState::kNotRunning;
}

}  // namespace zc::docker
