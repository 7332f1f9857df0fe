// The SSE hub's stream reactor: ONE thread, an epoll loop over the non-blocking sockets of every
// stream. Each wake it admits new streams (writing the response head, `retry:` and the first
// status), pumps the streams that have work (backfill, then the live inbox, formatted up to the
// high-water mark and flushed to the socket, at most a few rounds per stream before the others
// get their turn), and every tick sends heartbeats, closes stalled streams and polls
// teardownComplete() for stopped deployments. Live batches are formatted once per batch and
// shared by every stream of a deployment, for as long as any stream still holds the batch (so a
// stream that lags behind the others does not format the lines again: with a fixed-size cache,
// 1,000 streams spread over more batches than it held each formatted every line themselves).
//
// Thread-safety: schedule() and the fields under `mu` are shared with the publisher and request
// threads; everything else belongs to the hub thread (or to stop() once it joined).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sse_inbox.h"
#include "sse_stream.h"
#include "zc/exporters/sse_hub.h"

namespace zc::exporters {

struct SseHub::Impl final : StreamScheduler {
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kWakeToken = 0;

  Impl(host::CollectorApi& a, const SseOptions& o) : api(a), opts(o) {}

  host::CollectorApi& api;
  const SseOptions& opts;
  int epfd = -1;
  int wakefd = -1;
  std::thread thread;
  std::atomic<size_t> reserved{0};
  std::mutex clientsMu;  // guards perClient
  std::unordered_map<std::string, size_t> perClient;  // reserved slots per client, none at 0
  std::atomic<uint64_t> nextToken{1};
  std::atomic<uint64_t> open{0}, opened{0}, rejected{0}, droppedSlow{0}, droppedStalled{0},
      ended{0}, overlapSkipped{0};

  std::mutex mu;  // guards the fields below
  bool accepting = false;
  bool stopping = false;
  bool wakePending = false;
  std::vector<uint64_t> ready;
  std::vector<std::unique_ptr<SseStream>> incoming;

  // Hub thread only.
  std::unordered_map<uint64_t, std::unique_ptr<SseStream>> streams;
  // The SSE events of live batches, keyed by the batch's address. The entry does not keep its
  // batch alive: an expired one is formatted again when its address is reused, and swept.
  struct FormattedBatch {
    std::weak_ptr<const std::vector<LogLine>> batch;
    std::vector<std::string> events;
  };
  std::unordered_map<const void*, FormattedBatch> formatted;
  size_t sweepFormattedAt = kMinSweep;
  static constexpr size_t kMinSweep = 64;
  std::vector<uint64_t> again;  // streams with work left after their rounds

  // A stream has work (called by its subscriber, from any thread).
  void schedule(uint64_t token) noexcept override;
  // Wakes the hub thread; call with `mu` held.
  void wakeLocked() noexcept;

  void loop();
  void admit(std::unique_ptr<SseStream> s);
  void readInput(SseStream& s, uint32_t events);
  void pump(SseStream& s);
  enum class Fill { kIdle, kFull, kClosed };
  Fill fill(SseStream& s);
  // Formats the live batch being sent; false when the stream was closed.
  bool fillCurrent(SseStream& s);
  bool flush(SseStream& s);
  // The events of `batch`'s lines, formatted once for every stream.
  const std::vector<std::string>& formattedEvents(const host::LineBatch& batch);
  // Drops the formatted events of batches no stream holds any more.
  void sweepFormatted();
  void setWantWrite(SseStream& s, bool want);
  void close(SseStream& s);
  void tick(Clock::time_point now);
  // Leaves the bus and gives the stream's slots back.
  void release(SseStream& s) noexcept;
  // Gives back one slot of `client` (the global one is released by the caller).
  void releaseClient(const std::string& client) noexcept;
};

}  // namespace zc::exporters
