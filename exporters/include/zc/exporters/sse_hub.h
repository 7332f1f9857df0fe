// SseHub: every open SSE log stream (GET /api/deployments/{id}/logs/stream), served by a fixed
// set of threads (SseOptions::threads, 1 by default), whatever the number of streams.
//
// The route's handler (src/sse_route.*) validates the request, reserves a slot (503 with
// Retry-After beyond maxClients), takes the connection away from the HTTP server
// (detachConnection) and gives it to addStream(); the HTTP worker is free again at once. One hub
// thread (the streams go to the threads in turn) owns the stream from then on: an epoll loop over
// non-blocking sockets, one bounded output buffer per stream.
//
// Hand-over without gap or duplicate. addStream() subscribes to the LiveBus BEFORE anything is
// read from storage; batches published from then on queue in the stream's inbox. The hub then
// backfills from storage (readLogs after the client's position, in chunks) until a short page
// says storage has no more, and only then drains the inbox, skipping lineNos it already sent.
// The bus publishes a batch only after storage committed it, so any line missing from the
// backfill was committed after the subscription and is in the inbox; duplicates are dropped by
// lineNo. If a live line is ever ahead of the last one sent (lines expired between), the gap is
// read from storage first; lines that storage no longer has are skipped.
//
// Each stream: `retry: <retryMs>`, an initial `event: status`, then `event: log` / `id: <lineNo>`
// / `data: <line JSON>` per line (or, for a stream opened with ?batch=1, `event: lines` /
// `id: <last lineNo>` / `data: [<line JSON>,...]` per run of at most 1,000 consecutive lines or
// 64 KiB, so that a reader of a flood handles a few events instead of one per line),
// `event: status` on changes, a comment heartbeat when nothing
// was sent for heartbeatMs, and `event: end` followed by close once the deployment's teardown is
// complete (LiveBus onEnd, or CollectorApi::teardownComplete() checked at subscription and
// polled while the deployment is stopped).
//
// Limits: a stream whose inbox holds more than maxPendingLines live lines (it does not read fast
// enough) or whose socket accepted nothing for stallTimeoutMs while data was waiting is closed;
// the client resumes with Last-Event-ID from storage. An idle stream holds a few hundred bytes
// of user-space memory (its output buffer is released once flushed).
//
// The parts, in src/: sse_route (the handshake), sse_hub_impl.h + sse_reactor.cpp (the hub
// thread), sse_backfill (storage reads), sse_inbox (bus -> hub), sse_stream (per-stream state),
// sse_format (the bytes on the wire, head included).
//
// Thread-safety: every public method may be called from any thread. Storage reads run on the hub
// threads. The hub must be stopped before the CollectorApi (and its bus) is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "zc/exporters/transport.h"
#include "zc/model.h"
#include "zc/host/collector_api.h"
#include "zc/status.h"

namespace zc::exporters {

struct SseOptions {
  size_t maxClients = 1024;        // concurrent streams; beyond: 503 + Retry-After
  size_t maxStreamsPerClient = 32; // concurrent streams of one client (token or address); beyond:
                                   // 503 + Retry-After, so one client cannot take maxClients
  int retryAfterSeconds = 2;       // Retry-After of that 503
  int retryMs = 2000;              // the `retry:` field sent first
  int heartbeatMs = 15000;         // a comment when nothing else was sent for this long
  int stallTimeoutMs = 30000;      // no byte accepted by the socket for this long: disconnect
  size_t maxPendingLines = 10000;  // live lines queued for one stream before it is disconnected
  size_t maxPendingBytes = 16 << 20;  // and their text bytes
  size_t highWaterBytes = 32768;   // formatted bytes held per stream before waiting for the socket
  size_t backfillChunk = 256;      // lines per storage read
  size_t defaultBackfillLines = 500;  // without Last-Event-ID or ?since=
  int sendBufferBytes = 65536;        // SO_SNDBUF of stream sockets (0 = kernel default)
  int teardownPollMs = 5000;          // teardownComplete() polling while the deployment is stopped
  // Hub threads (0 counts as 1). Every stream lives on one of them, given in turn, so a line
  // published to N streams is N writes spread over the threads. 1 until a second one is shown
  // to help on a quiet machine (bench_sse --threads, bench_e2e; bench/RESULTS.md).
  size_t threads = 1;
};

struct SseStats {
  uint64_t clients = 0;         // open streams (gauge)
  uint64_t opened = 0;          // counters from here on
  uint64_t rejected = 0;        // 503 at the cap (global or per client)
  uint64_t droppedSlow = 0;     // inbox overflow
  uint64_t droppedStalled = 0;  // socket stalled
  uint64_t ended = 0;           // closed after `event: end`
  // Live lines skipped because the backfill had already sent them (the hand-over overlap).
  uint64_t overlapSkipped = 0;
};

// One stream to serve (see addStream()).
struct SseStreamRequest {
  std::string deploymentId;
  uint64_t startAfter = 0;  // lines after this lineNo are sent
  DeploymentStatus status = DeploymentStatus::kRunning;
  bool batched = false;  // `event: lines` runs instead of one `event: log` per line
  std::string client;    // who opened it (token name, else peer address): the per-client cap
};

enum class SseReserve { kOk, kHubFull, kClientFull };

class SseHub {
 public:
  // OWNERSHIP: `api` must outlive the hub.
  SseHub(host::CollectorApi& api, SseOptions options);
  ~SseHub();
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  // Starts the hub threads. FailedPrecondition when already started.
  Status start();
  // Closes every stream (without `event: end`; clients reconnect), unsubscribes from the bus and
  // joins the threads. Idempotent.
  void stop() noexcept;

  // Takes one of maxClients slots and one of `client`'s maxStreamsPerClient; nothing taken (and
  // counted as rejected) at either cap.
  SseReserve tryReserve(const std::string& client) noexcept;
  // Gives back the slots taken by tryReserve(client) that addStream() will not consume.
  void release(const std::string& client) noexcept;
  // Serves `io` (a connection whose request was read, no response written yet; plain or TLS) as
  // the stream `request` describes. Consumes the slots reserved for request.client and OWNS `io`
  // in every case (closes it on failure). Unavailable when the hub is not running.
  Status addStream(std::unique_ptr<Transport> io, SseStreamRequest request) noexcept;

  SseStats stats() const noexcept;
  const SseOptions& options() const noexcept { return options_; }

  struct Impl;

 private:
  SseOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zc::exporters
