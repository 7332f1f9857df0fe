// LogFollower: one container's log follow on its own thread (`follow_threads=0`; the default is
// LoopFollower on the shared FollowLoop, loop_follower.h), the Subscription that followLogs()
// returns, implementing the exactly-once contract of zc/plugin/runtime.h.
//
// Loop: GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=<cursor since>
// -> HttpStream -> FrameDecoder (or RawStreamSplitter for TTY containers) -> LineAssembler, which
// drops the overlap the inclusive `since` re-sends. Complete lines go to the consumer in chunks:
// when the bytes already received are used up, or at chunkMaxLines / chunkMaxBytes. Chunks end
// only at message boundaries, so each chunk's cursor is exact. While consume() runs the socket is
// not read (back-pressure: the engine keeps the log).
//
// The stream is reopened from the cursor of the last delivered chunk when it breaks (engine
// restart, socket error, engine error frame, protocol error) or stays silent for the stall
// timeout; reopens that bring nothing new back off (first retry within 1 s, capped at 30 s), and
// so does the stall timeout (up to stallTimeoutMax). When the stream ends and the container does
// not run any more (checked again after restartGrace), pending partial lines are completed, the
// last chunk delivered and ended(OK) called; a container that is gone ends with NotFound. That
// decision after a stream's end is LoopFollower's too (stream_end_decision.h).
//
// Thread-safety: stop() may be called from any thread (also from the consumer's callbacks).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.h"
#include "frame_decoder.h"
#include "http_stream.h"
#include "line_assembler.h"
#include "log_cursor.h"
#include "raw_stream_splitter.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

struct FollowOptions {
  size_t maxLineBytes = 1 << 20;
  size_t partialPieceBytes = 16 * 1024;
  std::chrono::milliseconds stallTimeout{5000};
  std::chrono::milliseconds stallTimeoutMax{60000};
  int64_t resumeMarginNs = kNanosPerSecond;
  size_t chunkMaxLines = 4000;
  size_t chunkMaxBytes = 1 << 20;
  std::chrono::milliseconds backoffInitial{250};
  std::chrono::milliseconds backoffMax{30000};
  std::chrono::milliseconds restartGrace{1000};
  // Before delivering a chunk because the received bytes are used up, wait this long for more
  // (the engine writes one message per HTTP chunk, so a reader faster than the engine would
  // otherwise deliver a line or two per chunk during a flood)...
  std::chrono::microseconds chunkLinger{2000};
  // ...but never hold a line back longer than this...
  std::chrono::milliseconds chunkMaxDelay{50};
  // ...and stop lingering when a linger brought fewer lines than this: at a steady moderate rate
  // (2,000 lines/s: 4 lines a linger) lingering builds no batch worth the wait and only held each
  // line up to chunkMaxDelay.
  size_t chunkLingerMinLines = 64;
};

class LogFollower final : public plugin::Subscription {
 public:
  // OWNERSHIP: `consumer` and `logger` must outlive this object.
  LogFollower(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
              plugin::ContainerInfo container, const LogCursor& cursor,
              plugin::LogConsumer* consumer, FollowOptions options);
  ~LogFollower() override;

  void start();
  void stop() noexcept override;

  // Counters for tests and diagnostics.
  uint64_t opens() const noexcept { return opens_.load(); }

 private:
  enum class StreamEnd { kClean, kBroken, kStalled, kStopped, kConsumerDone };

  void run();
  StreamEnd pump(HttpStream& stream, bool tty, std::string* why);
  bool deliver();
  void end(Status why);
  void log(plugin::LogLevel level, const std::string& msg) const;
  std::string logsPath(const std::string& prefix) const;

  std::shared_ptr<EngineClient> engine_;
  plugin::Logger* logger_;
  plugin::ContainerInfo container_;
  plugin::LogConsumer* consumer_;
  FollowOptions opts_;

  LineAssembler assembler_;
  FrameDecoder decoder_;
  RawStreamSplitter splitter_;
  std::vector<plugin::RawLine> lines_;
  bool consumerDone_ = false;
  std::chrono::milliseconds currentStall_{5000};

  StopSignal stopSignal_;
  std::atomic<bool> ended_{false};
  std::atomic<uint64_t> opens_{0};
  std::thread thread_;
};

}  // namespace zc::docker
