// Ingest: how a followed container's log chunks become stored, numbered, published lines.
//
// A FollowConsumer receives one follow's chunks on a runtime follow thread (one of the few the
// runtime shares among all follows; never two calls of one follow at once) and commits each
// through the deployment's Sequencer (one atomic storage write of lines + cursor + next lineNo,
// then the LiveBus). consume() blocks until the chunk is stored: that is the back-pressure (the
// runtime stops reading that container's log meanwhile; the call holds one of its threads). A write that fails is retried with the same chunk
// after a backoff (RetryBackoff), so nothing is numbered twice or lost and nothing is published
// before it is stored. A consume() waiting to retry gives up (returns false, the chunk is
// re-read later from the stored cursor) when its follow is cancelled or the Ingest is stopped.
// A chunk that reports a gap (lines the engine no longer holds) is stored with one system line
// `[GAP] ...` before its lines, in the same write, and counted in PipelineCounters::logGaps.
//
// OWNERSHIP: the Ingest borrows the counters and clock (they must outlive it and every consumer
// it made); a FollowConsumer must not outlive its Ingest. Thread-safety: all methods are
// thread-safe; one follow calls its consumer from one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "sequencer.h"
#include "zc/clock.h"
#include "zc/plugin/runtime.h"

namespace zc::collector {

// The retry policy of a storage write that failed: the delay before each next attempt, from
// `first` doubling up to `max`. Not thread-safe (one per retried write).
class RetryBackoff {
 public:
  constexpr RetryBackoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
      : next_(first), max_(max) {}
  std::chrono::milliseconds next() {
    auto d = next_;
    next_ = std::min(next_ * 2, max_);
    return d;
  }

 private:
  std::chrono::milliseconds next_;
  std::chrono::milliseconds max_;
};

// A followed chunk: soon and often, the follow holds the engine's log meanwhile.
constexpr RetryBackoff kChunkRetry{std::chrono::milliseconds(50), std::chrono::seconds(5)};
// A system line: retried by the lifecycle worker, which must not wait on it.
constexpr RetryBackoff kSystemLineRetry{std::chrono::seconds(1), std::chrono::seconds(2)};

// Counters for the collector's own health (exported on /metrics). Monotonic.
struct PipelineCounters {
  std::atomic<uint64_t> linesIngested{0};
  std::atomic<uint64_t> bytesIngested{0};
  std::atomic<uint64_t> batchesCommitted{0};
  std::atomic<uint64_t> commitFailures{0};
  std::atomic<uint64_t> engineConnects{0};
  std::atomic<uint64_t> engineDisconnects{0};
  std::atomic<uint64_t> logGaps{0};  // [GAP] lines: lines the engine no longer held
  std::atomic<int64_t> lastIngestLagNs{0};  // now - ts of the newest line of the last batch
};

class Ingest;

// The system line of a gap: `[GAP] the engine no longer holds the stdout lines between <after>
// and <before> (count unknown)`, times RFC 3339 UTC.
std::string gapLine(const plugin::LogGap& gap);

class FollowConsumer final : public plugin::LogConsumer {
 public:
  using EndedFn = std::function<void(Status)>;
  FollowConsumer(Ingest& ingest, std::shared_ptr<Sequencer> seq, std::string containerId,
                 EndedFn ended);

  // Commits the chunk, retrying while storage fails; false when it gave up (cancelled, stopped,
  // or out of memory), which ends the follow.
  bool consume(plugin::LogChunk&& chunk) noexcept override;
  // Passes the follow's end to the `ended` callback given at construction.
  void ended(Status why) noexcept override;

  // Makes a consume() waiting to retry give up now, and any later one at its first failure.
  // Call before the follow is stopped and joined.
  void cancel() noexcept;
  // The newest line timestamp committed, and how long ago the last commit was.
  TimeNs committedTs() const noexcept { return committedTs_.load(); }
  std::chrono::steady_clock::duration idleFor() const noexcept {
    return std::chrono::steady_clock::now() - lastCommit_.load();
  }

 private:
  bool commitWithRetry(plugin::LogChunk&& chunk);

  Ingest& ingest_;
  const std::shared_ptr<Sequencer> seq_;
  const std::string containerId_;
  const EndedFn ended_;
  bool cancelled_ = false;  // guarded by ingest_.mu_
  std::atomic<TimeNs> committedTs_{0};
  std::atomic<std::chrono::steady_clock::time_point> lastCommit_{std::chrono::steady_clock::now()};
};

class Ingest {
 public:
  Ingest(PipelineCounters& counters, Clock& clock, RetryBackoff retry = kChunkRetry);

  // A consumer for one follow of `containerId` committing through `seq`. `ended` runs on a
  // runtime thread (or, for a follow stopped while idle, on the thread that stops it) when the
  // follow ends; it must not block.
  std::unique_ptr<FollowConsumer> consumer(std::shared_ptr<Sequencer> seq,
                                           std::string containerId, FollowConsumer::EndedFn ended);

  // Wakes every consume() waiting to retry and makes it give up; no consume() retries after
  // this. Idempotent.
  void stop() noexcept;

 private:
  friend class FollowConsumer;
  // Waits `delay`; true when the consumer must give up instead (stopped or `cancelled`).
  bool waitOrGiveUp(std::chrono::milliseconds delay, const bool& cancelled);

  PipelineCounters& counters_;
  Clock& clock_;
  const RetryBackoff retry_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace zc::collector
