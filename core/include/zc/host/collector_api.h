// CollectorApi: what the exporters (REST, SSE, Prometheus, pages) may ask of the running
// collector. The daemon implements it (collector/src/collector_api_impl.*); exporters depend
// only on this header, so they are tested against a fake.
//
// Ids passed in are untrusted: every method validates them (InvalidArgument) before use.
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "zc/host/live_bus.h"
#include "zc/model.h"
#include "zc/plugin/storage.h"

namespace zc::host {

// Per-deployment figures for /metrics. Counters are monotonic for the life of the process.
struct DeploymentGauges {
  Deployment row;
  // False until the first resource sample, and whenever the deployment does not run (stopped,
  // crashed, container gone): the figures below describe a running container only.
  bool hasSample = false;
  double cpuSecondsTotal = 0;  // CPU time used by the container's current run, seconds (counter)
  double cpuPct = 0;           // last sample, 100 = one core
  double memUsedBytes = 0;
  double memLimitBytes = 0;
  uint64_t linesStdout = 0;  // lines ingested by this process, per stream (counter)
  uint64_t linesStderr = 0;
  uint64_t linesSystem = 0;
  uint64_t crashes = 0;  // crashes seen by this process (counter)
  int consecutiveHealthFailures = 0;
};

// The collector's own health figures for /metrics.
struct CollectorGauges {
  std::string hostId;          // --host-id, the host label of zynd_collector_info
  uint64_t linesIngested = 0;  // counters
  uint64_t bytesIngested = 0;
  uint64_t batchesCommitted = 0;
  uint64_t commitFailures = 0;
  uint64_t engineConnects = 0;
  uint64_t engineDisconnects = 0;
  uint64_t logGaps = 0;  // [GAP] lines: lines the engine no longer held when a follow resumed
  uint64_t quotaDroppedLines = 0;  // stdout/stderr lines dropped for --max-storage-bytes
  uint64_t retentionRuns = 0;
  uint64_t retentionDeletedLogLines = 0;
  uint64_t retentionDeletedSystemLines = 0;
  uint64_t retentionDeletedMetricSamples = 0;
  double ingestLagSeconds = 0;  // gauge: now - timestamp of the newest line of the last batch
  bool hasSink = false;         // the forward figures below are set only with a sink
  uint64_t forwardLagLines = 0;     // gauge: committed lines not yet acknowledged by the sink
  double forwardLagSeconds = 0;     // gauge: age of the oldest line not yet acknowledged
  uint64_t storageBytes = 0;    // gauge
  // The filesystem that holds --data-dir (statvfs): bytes available to the collector and its
  // size; both 0 when unknown (no data folder, or statvfs failed).
  uint64_t dataDirFreeBytes = 0;
  uint64_t dataDirSizeBytes = 0;
  bool storageHealthy = true;
  uint64_t activeFollows = 0;   // gauge
  bool runtimeConnected = false;
};

// A container that claims a deployment another container holds: it is not followed and changes
// no row (collector/src/claims.h decides who holds a deployment).
struct ClaimConflict {
  std::string containerId;    // full id
  std::string containerName;  // without the leading '/'
  std::string deploymentId;   // the deployment it claims
  std::string reason;         // one sentence: who holds the deployment instead
};

// The collector's health for /healthz: plain figures read at the time of the call.
struct CollectorHealth {
  std::string hostId;        // --host-id
  std::string advertiseUrl;  // --advertise-url, or empty
  std::string storagePlugin;  // the configured plugin names ("rocksdb", "docker", "none")
  bool storageOk = true;
  std::string storageDetail;  // why storage is not ok
  std::string runtimePlugin;
  bool runtimeConfigured = false;  // false with --runtime none
  bool runtimeConnected = false;   // always false when no runtime is configured
  // A configured runtime has not been connected for longer than kRuntimeDegradedAfter (since
  // the start, or since its connection was lost): /healthz then answers 503. A shorter outage
  // (an engine restart) shows only in "status" and runtime.connected.
  bool runtimeAwayTooLong = false;
  // Readiness (/readyz): storage is open, and the first discovery is done (the runtime's first
  // listing reconciled with the stored rows; at once without a runtime).
  bool storageOpen = false;
  bool discoveryDone = false;
  uint64_t activeFollows = 0;
  uint64_t deployments = 0;    // known deployments
  uint64_t linesIngested = 0;  // pipeline counters
  uint64_t batchesCommitted = 0;
  uint64_t commitFailures = 0;
  bool hasMetricsSampler = false;  // the figures below are set only when a sampler runs
  uint64_t sweeps = 0;             // sampling passes completed
  uint64_t lastSweepTargets = 0;   // deployments the last pass covered
  uint64_t lastSweepStored = 0;    // samples it stored
  double lastSweepMs = 0;          // how long it took
  // Containers ignored because another container holds the deployment they claim, at most
  // kMaxClaimConflictsShown of them (ordered by container id).
  std::vector<ClaimConflict> claimConflicts;
  // The sink (--sink), only when one is configured.
  bool hasSink = false;
  std::string sinkPlugin;
  bool sinkConnected = false;
  std::string sinkDetail;  // why not connected; never a secret
  uint64_t forwardLagLines = 0;
  double forwardLagSeconds = 0;
  uint64_t linesForwarded = 0;  // lines the sink acknowledged since start (counter)
};
constexpr size_t kMaxClaimConflictsShown = 100;
// How long a configured runtime may stay disconnected before /healthz answers 503.
inline constexpr std::chrono::seconds kRuntimeDegradedAfter{30};

// Who asked for a stop, for the deployment's `[STOP] stop requested by <token> from <address>`
// line. An empty token name means anonymous (the collector runs without tokens).
struct StopRequester {
  std::string tokenName;
  std::string address;
};

class CollectorApi {
 public:
  virtual ~CollectorApi() = default;

  // Every known deployment, newest (createdAt) first.
  virtual std::vector<Deployment> listDeployments() = 0;
  // NotFound for an unknown id.
  virtual Result<Deployment> getDeployment(const std::string& id) = 0;
  // See plugin::Storage::readLogs. NotFound for an unknown id.
  virtual Result<plugin::LogPage> readLogs(const std::string& id, uint64_t since,
                                           plugin::LogReadLimit limit) = 0;
  // Samples with from <= sampledAt <= to, ascending. NotFound for an unknown id.
  virtual Result<std::vector<MetricSample>> readMetrics(const std::string& id, TimeNs from,
                                                        TimeNs to) = 0;
  // Marks the deployment stopped at once and schedules the teardown (asynchronous). Stopping a
  // stopped deployment succeeds again, and retries a teardown that gave up (its container was
  // left in place). Returns the row as it is now. NotFound for an unknown id.
  // `by` is named in the deployment's stop line.
  virtual Result<Deployment> requestStop(const std::string& id, const StopRequester& by) = 0;
  // True once a stopped deployment's teardown is complete (container gone, route and port
  // released); the SSE stream then sends `event: end`.
  virtual bool teardownComplete(const std::string& id) = 0;

  // Committed lines and status changes, for SSE.
  virtual LiveBus& bus() = 0;

  virtual std::vector<DeploymentGauges> deploymentGauges() = 0;
  virtual CollectorGauges collectorGauges() = 0;
  virtual CollectorHealth health() = 0;
  // "0.1.0"
  virtual std::string version() = 0;

  // The fleet's host collectors that are alive (a central instance: seen within the last 30 s),
  // for Prometheus service discovery. FailedPrecondition on a collector that is not central.
  virtual Result<std::vector<plugin::HostRecord>> liveHosts() {
    return Status::failedPrecondition("not a central instance (--runtime none --storage postgres)");
  }
};

}  // namespace zc::host
