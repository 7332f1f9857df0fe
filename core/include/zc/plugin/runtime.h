// Runtime plugins: where deployments run (runtime_docker: the Docker engine; runtime_podman:
// Podman's libpod API). Nothing here is one engine's: docs/writing-a-runtime.md walks through
// writing one.
//
// A runtime discovers deployments, follows their logs from a resume cursor, reports lifecycle
// events, samples resource use, and stops/removes containers. It owns the threads it starts for
// follows and event subscriptions (a fixed pool shared by every follow, or one per follow); the
// handles it returns stop them and wait for their last callback.
//
// The exactly-once contract between a runtime and the host's log pipeline:
//   - followLogs() starts from `cursor` (empty = the beginning of the container's log) and hands
//     the consumer only COMPLETE lines after that point, each once, in the engine's order per
//     stream.
//   - Each LogChunk carries the cursor that is true after its last line. The host stores that
//     cursor atomically with the chunk's lines; a later followLogs() with it continues exactly
//     after them (the overlap the engine re-sends is dropped by the runtime).
//   - The runtime reopens a broken or stalled stream by itself, from the last cursor it
//     delivered, for as long as the container runs and the handle is not stopped.
//   - When a resume finds that the engine no longer holds the lines right after the cursor, the
//     next chunk says so (LogChunk::gap) once; the host records it.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zc/model.h"
#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"

namespace zc::plugin {

// What the runtime knows of one deployment's container (from list + inspect).
struct ContainerInfo {
  std::string deploymentId;  // from the name zynd-<id> or the label zynd.deployment
  std::string containerId;   // full id
  std::string name;          // without the leading '/'
  bool running = false;
  bool restarting = false;
  bool tty = false;
  // Metadata from labels (zynd.kind, zynd.name, zynd.slug, zynd.public-url, zynd.registry-url,
  // zynd.entity-id, zynd.public-key); empty when absent. Only labels the deployer set count: a
  // zynd.* label whose key and value the image itself carries is ignored.
  std::string entityType, displayName, slug, publicUrl, registryUrl, entityId, publicKey;
  std::optional<int> hostPort;  // the first host port bound, if any
  TimeNs createdAt = 0;
  std::optional<TimeNs> startedAt;
  std::optional<TimeNs> finishedAt;
  std::optional<int> exitCode;  // set once the container has exited at least once
  // The last run ended in an out-of-memory kill. False when it did not OR when the runtime
  // cannot tell (an engine without a kill count the runtime can read): a runtime that can be
  // blind to OOM kills says where in its README, and the host then reports oom=false.
  bool oomKilled = false;
  int restartCount = 0;
  // The engine's restart policy, in these words: "no", "always", "unless-stopped",
  // "on-failure" (a runtime maps its engine's names onto them; empty = unknown).
  std::string restartPolicy;
  int64_t memoryLimitBytes = 0;  // 0 = none
};

// A complete line as the runtime read it. `text` has no trailing '\n' nor the '\r' of CRLF.
struct RawLine {
  LogStream stream = LogStream::kStdout;  // kStdout or kStderr (TTY: kStdout)
  TimeNs ts = 0;                          // engine timestamp of the line's first piece
  std::string text;
  bool truncated = false;
};

// Lines the engine no longer holds: a resume found that what follows the cursor is gone (e.g.
// rotated away by json-file max-file while the collector was down or behind).
struct LogGap {
  LogStream stream = LogStream::kStdout;
  TimeNs after = 0;   // the timestamp of the last line stored before the gap
  TimeNs before = 0;  // the timestamp of the first line the engine still holds after it
  std::optional<uint64_t> lines;  // how many were lost, when known
};

struct LogChunk {
  std::vector<RawLine> lines;
  std::string cursor;  // resume point after lines.back(); opaque to the host
  // Set on the first chunk after a gap: the gap comes before `lines`.
  std::optional<LogGap> gap;
};

// Implemented by the host. One follow calls its consumer from one thread at a time, never
// concurrently, but not always the same thread: a runtime may run many follows on a small shared
// pool (the Docker runtime does), so the calls of different follows may come from one thread.
class LogConsumer {
 public:
  virtual ~LogConsumer() = default;
  // Takes a chunk. May block: that is the back-pressure. While it runs the runtime does not read
  // THIS follow's stream (the engine keeps the log); other follows go on, but a blocked consume()
  // holds one of the runtime's follow threads, so it should block only as long as the storage
  // write it waits for (and return false promptly once the host cancels the follow). Returns
  // false when the host wants the follow to end.
  virtual bool consume(LogChunk&& chunk) noexcept = 0;
  // Called once when the follow ends for good: the container stopped (OK), the container is gone
  // (NotFound), or the handle was stopped or consume() returned false (Aborted). Not called for
  // a stream the runtime reopens by itself.
  virtual void ended(Status why) noexcept = 0;
};

// What happened to a deployment's container. The host re-inspects the container on kCreate,
// kStart, kRestart, kDie and kStop, so a runtime sends whichever of them its engine reports (in
// any order: the inspect is the truth) and need not synthesise the others; kDie must come for
// every death (the host learns crashes from it). kOom is optional: an OOM kill is taken from
// kOom OR from ContainerInfo::oomKilled at the kDie inspect. kDestroy: the container is gone.
enum class RuntimeEventType : uint8_t {
  kCreate,
  kStart,
  kRestart,
  kDie,
  kOom,
  kStop,
  kDestroy,
  // The subscription (re)connected: events may have been missed, the host must reconcile with
  // listDeployments(). Sent after the first connect too.
  kConnected,
  // The subscription broke; the runtime is reconnecting with backoff.
  kDisconnected,
};

struct RuntimeEvent {
  RuntimeEventType type = RuntimeEventType::kConnected;
  std::string deploymentId;  // empty for kConnected / kDisconnected
  std::string containerId;
  TimeNs ts = 0;
  std::optional<int> exitCode;  // kDie
};

class EventConsumer {
 public:
  virtual ~EventConsumer() = default;
  // Called on the runtime's event thread, in order. Must not block for long (the engine drops
  // slow subscribers).
  virtual void onEvent(const RuntimeEvent& event) noexcept = 0;
};

// A running follow or subscription. Destroying it stops it and waits for its last callback
// (joins its thread, or its last step on a shared pool), so it must never be destroyed from
// inside its own callbacks (calling stop() there is fine: it then returns at once and the follow
// ends after the callback returns).
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops and joins; idempotent. After it returns, no more callbacks arrive.
  virtual void stop() noexcept = 0;
};

struct ResourceSample {
  TimeNs sampledAt = 0;
  double cpuPct = 0;  // 100 = one full core; 0 when the runtime has no figure (no earlier reading)
  double cpuSecondsTotal = 0;  // CPU time the container's current run has used; 0 = unknown
  // Memory in use without the page cache the kernel can drop: the cgroup's usage minus its
  // inactive file pages (what `docker stats` shows). A runtime whose engine reports usage with
  // the cache included reads the cgroup itself or says in its README what its figure holds.
  double memUsedBytes = 0;
  double memLimitBytes = 0;
};

class Runtime : public Plugin {
 public:
  static constexpr ZcPluginKind kKind = ZC_PLUGIN_KIND_RUNTIME;

  // Connects and negotiates (e.g. the engine API version). Unavailable when the engine is not
  // there; the host retries.
  virtual Status connect() noexcept = 0;

  // Every deployment container (running or not). Other containers are never reported.
  virtual Result<std::vector<ContainerInfo>> listDeployments() noexcept = 0;
  // NotFound for a container that does not exist or is not a deployment.
  virtual Result<ContainerInfo> inspect(std::string_view containerId) noexcept = 0;

  // Follows `container`'s stdout and stderr from `cursor` (see the contract above) until it
  // stops. OWNERSHIP: `consumer` must outlive the returned Subscription.
  virtual Result<std::unique_ptr<Subscription>> followLogs(const ContainerInfo& container,
                                                           std::string_view cursor,
                                                           LogConsumer* consumer) noexcept = 0;

  // One persistent event subscription with reconnect (first retry within 1 s, backoff capped at
  // 30 s). OWNERSHIP: `consumer` must outlive the returned Subscription.
  virtual Result<std::unique_ptr<Subscription>> subscribeEvents(EventConsumer* consumer) noexcept = 0;

  // One resource sample, without waiting for a second engine sample: the runtime keeps the
  // previous one per container to compute CPU %.
  virtual Result<ResourceSample> sampleResources(std::string_view containerId) noexcept = 0;

  // One resource sample of each of `containerIds`, from the calling thread: result i belongs to
  // containerIds[i], and one container's failure (gone, no answer in time, unreadable answer) is
  // its own error Result and never fails the others. A runtime whose engine answers stats
  // requests at a collection tick asks for all of them at once, at most `maxInFlight` (>= 1)
  // requests at a time, and starts no thread. This default asks one container after the other
  // through sampleResources() and ignores `maxInFlight`.
  virtual std::vector<Result<ResourceSample>> sampleResourcesBatch(
      std::span<const std::string> containerIds, size_t maxInFlight) noexcept {
    (void)maxInFlight;
    std::vector<Result<ResourceSample>> out;
    out.reserve(containerIds.size());
    for (const std::string& id : containerIds) out.push_back(sampleResources(id));
    return out;
  }

  // Stop signal, wait `grace`, then kill. A container already stopped is success.
  virtual Status stopContainer(std::string_view containerId, std::chrono::seconds grace) noexcept = 0;
  // Removes the container (force also removes a running one). Unknown container is success.
  virtual Status removeContainer(std::string_view containerId, bool force) noexcept = 0;
};

}  // namespace zc::plugin
