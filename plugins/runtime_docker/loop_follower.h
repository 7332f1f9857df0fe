// LoopFollower: one container's log follow as a task of a shared FollowLoop (the default follower;
// LogFollower is the thread-per-follow one, kept as `follow_threads=0`). Same exactly-once
// contract and the same rules as LogFollower (see log_follower.h): the stream is reopened from the
// last delivered cursor when it breaks or stalls, empty reopens back off (250 ms doubling to
// 30 s), an idle container's stall timeout doubles up to stallTimeoutMax, the end of a stopped
// container is decided after restartGrace and a read that brings nothing new (the decision after
// a stream's end is the one both share: stream_end_decision.h), gaps are reported once, chunks are handed over at chunkMaxLines / chunkMaxBytes or when the received bytes are
// used up (after chunkLinger, within chunkMaxDelay).
// One difference: a stalled stream (no partial line pending) is reopened without inspecting the
// container first (the reopen answers the same question, and the inspect is a blocking request
// on a shared worker).
//
// How it runs: the connection to the engine is a non-blocking Unix socket, read ahead by the loop
// while a step runs or lingers (FollowLoop::setReadAhead: the engine is not held while the
// consumer commits); each step reads what was read ahead and what the socket holds (at most
// 4 MiB, then it yields to the other follows), feeds it to a
// LogStreamParser and waits again through the loop (socket readiness or a deadline: the response
// head timeout, the stall timeout, the linger, a backoff, the restart grace). consume() and the
// inspect requests run inside the step, on a loop worker: while they run, this follow's socket
// is not read (back-pressure) and the other follows go on.
//
// Thread-safety: stop() may be called from any thread (also from the consumer's callbacks: it
// then only asks, and the follow ends when the callback returns).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine_client.h"
#include "follow_loop.h"
#include "line_assembler.h"
#include "log_cursor.h"
#include "log_follower.h"
#include "log_stream_parser.h"
#include "stream_end_decision.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

class LoopFollower final : public LoopTask {
 public:
  // OWNERSHIP: `consumer` and `logger` must outlive the follow (its last step).
  LoopFollower(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
               plugin::ContainerInfo container, const LogCursor& cursor,
               plugin::LogConsumer* consumer, FollowOptions options);
  ~LoopFollower() override;

  uint64_t opens() const noexcept { return opens_.load(); }

 protected:
  LoopWait step() noexcept override;

 private:
  enum class Phase : uint8_t { kOpen, kSend, kStream, kGrace, kBackoff, kDone };
  using Clock = std::chrono::steady_clock;

  LoopWait open();
  LoopWait send();
  LoopWait stream();
  LoopWait streamEnded(StreamEndKind how, const std::string& why);
  LoopWait afterGrace();
  LoopWait backoff();
  LoopWait finish(Status why);
  LoopWait rejected();  // a response other than 200
  bool deliver();
  void log(plugin::LogLevel level, const std::string& msg) const;
  std::string logsPath(const std::string& prefix) const;
  LoopWait waitFd(uint32_t events, Clock::time_point deadline) const {
    return LoopWait{fd_, events, deadline, false, false};
  }

  std::shared_ptr<EngineClient> engine_;
  plugin::Logger* logger_;
  plugin::ContainerInfo container_;
  plugin::LogConsumer* consumer_;
  FollowOptions opts_;

  LineAssembler assembler_;
  std::vector<plugin::RawLine> lines_;
  std::unique_ptr<LogStreamParser> parser_;
  Phase phase_ = Phase::kOpen;
  int fd_ = -1;
  std::string request_;
  size_t sent_ = 0;
  Clock::time_point headDeadline_{};
  Clock::time_point lastData_{};
  Clock::time_point batchStart_{};
  Clock::time_point wakeAt_{};  // end of a grace, a backoff or a linger
  Clock::time_point errorDeadline_{};
  bool batching_ = false;
  bool lingering_ = false;
  // lines_.size() when the batch's last linger began; kNoLinger when none did.
  static constexpr size_t kNoLinger = static_cast<size_t>(-1);
  size_t lingerFrom_ = kNoLinger;
  bool consumerDone_ = false;
  bool drained_ = false;
  bool ended_ = false;
  LogCursor before_;
  std::chrono::milliseconds backoff_{250};
  std::chrono::milliseconds currentStall_{5000};
  std::atomic<uint64_t> opens_{0};
};

// The Subscription followLogs() returns for a LoopFollower: stop() asks the follow to end and
// waits for its last step; it holds the loop so that the loop outlives it.
class LoopFollowHandle final : public plugin::Subscription {
 public:
  LoopFollowHandle(std::shared_ptr<FollowLoop> loop, std::shared_ptr<LoopFollower> follower)
      : loop_(std::move(loop)), follower_(std::move(follower)) {}
  ~LoopFollowHandle() override { stop(); }
  void stop() noexcept override { follower_->requestStopAndWait(); }
  const LoopFollower& follower() const noexcept { return *follower_; }

 private:
  std::shared_ptr<FollowLoop> loop_;
  std::shared_ptr<LoopFollower> follower_;
};

}  // namespace zc::docker
