// The SSE hub's stream reactors: `threads` shards (SseOptions::threads), each ONE thread with an
// epoll loop over the non-blocking sockets of its streams; a new stream goes to the next shard in
// turn, so the fan-out of one deployment to many clients is spread over the shards (at 1,000
// clients every line is 1,000 send()s: one thread is at most one core's worth of them). Each
// wake a shard admits new streams (writing the response head, `retry:` and the first status),
// pumps the streams that have work (backfill, then the live inbox, formatted up to the
// high-water mark and flushed to the socket, at most a few rounds per stream before the others
// get their turn), and every tick sends heartbeats, closes stalled streams and polls
// teardownComplete() for stopped deployments. Live batches are formatted once per batch and
// shard and shared by every stream of the shard, for as long as any of them still holds the
// batch (so a stream that lags behind the others does not format the lines again: with a
// fixed-size cache, 1,000 streams spread over more batches than it held each formatted every
// line themselves).
//
// Thread-safety: Impl's fields are atomics or under clientsMu (any thread). A shard's schedule()
// and the fields under its `mu` are shared with the publisher and request threads; everything
// else of a shard belongs to its thread (or to stop() once it joined).
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

class SseShard;

struct SseHub::Impl final {
  // Makes max(1, o.threads) shards (started by SseHub::start()).
  Impl(host::CollectorApi& a, const SseOptions& o);
  ~Impl();

  host::CollectorApi& api;
  const SseOptions& opts;
  std::vector<std::unique_ptr<SseShard>> shards;  // fixed for the hub's lifetime
  std::atomic<size_t> nextShard{0};
  std::mutex lifeMu;  // serialises start() and stop()
  bool running = false;
  std::atomic<size_t> reserved{0};
  std::mutex clientsMu;  // guards perClient
  std::unordered_map<std::string, size_t> perClient;  // reserved slots per client, none at 0
  std::atomic<uint64_t> nextToken{1};
  std::atomic<uint64_t> open{0}, opened{0}, rejected{0}, droppedSlow{0}, droppedStalled{0},
      ended{0}, overlapSkipped{0};

  // Leaves the bus and gives the stream's slots back.
  void release(SseStream& s) noexcept;
  // Gives back one slot of `client` (the global one is released by the caller).
  void releaseClient(const std::string& client) noexcept;
};

// One reactor thread and the streams it serves.
class SseShard final : public StreamScheduler {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kWakeToken = 0;

  explicit SseShard(SseHub::Impl& h) : hub(h), api(h.api), opts(h.opts) {}

  // Creates the epoll and wake descriptors and starts the thread.
  Status start();
  // Joins the thread and closes every stream, queued ones included. Idempotent.
  void stop() noexcept;
  // Queues `s` for the thread to admit; false (nothing taken) when the shard is stopped.
  bool add(std::unique_ptr<SseStream>& s);

  // A stream has work (called by its subscriber, from any thread).
  void schedule(uint64_t token) noexcept override;

 private:
  // Wakes the thread; call with `mu` held.
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
  // The events of `batch`'s lines, formatted once for every stream of the shard.
  const std::vector<std::string>& formattedEvents(const host::LineBatch& batch);
  // Drops the formatted events of batches no stream holds any more.
  void sweepFormatted();
  void setWantWrite(SseStream& s, bool want);
  void close(SseStream& s);
  void tick(Clock::time_point now);

  SseHub::Impl& hub;
  host::CollectorApi& api;
  const SseOptions& opts;
  int epfd = -1;
  int wakefd = -1;
  std::thread thread;

  std::mutex mu;  // guards the fields below
  bool accepting = false;
  bool stopping = false;
  bool wakePending = false;
  std::vector<uint64_t> ready;
  std::vector<std::unique_ptr<SseStream>> incoming;

  // The shard's thread only.
  std::unordered_map<uint64_t, std::unique_ptr<SseStream>> streams;
  // The SSE events of live batches, keyed by the batch's address. The entry does not keep its
  // batch alive: an expired one is formatted again when its address is reused, and swept.
  struct FormattedBatch {
    std::weak_ptr<const std::vector<LogLine>> batch;
    std::vector<std::string> events;
  };
  std::unordered_map<const void*, FormattedBatch> formatted;
  static constexpr size_t kMinSweep = 64;
  size_t sweepFormattedAt = kMinSweep;
  std::vector<uint64_t> again;  // streams with work left after their rounds
};

}  // namespace zc::exporters
