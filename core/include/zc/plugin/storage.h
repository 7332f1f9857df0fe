// Storage plugins: where deployments, log lines and metric samples live.
//
// The contract every storage plugin meets (tests/plugins/storage_conformance/ proves it for each):
//   - Deployments: put (insert or replace), get, list, delete.
//   - Logs: appendLogs() stores a batch of lines together with the runtime's resume cursor and
//     the deployment's next lineNo in ONE atomic write: after a crash either all of a batch is
//     there (lines, cursor, next lineNo) or none of it. A batch must start exactly at the stored
//     next lineNo and be contiguous, otherwise it is refused (FailedPrecondition) and nothing is
//     written: lineNos are contiguous per deployment across stdout, stderr and system lines.
//   - readLogs() returns lines with lineNo > since in lineNo order, at most `limit.lines`, and no
//     more once their text reaches `limit.bytes` (see LogReadLimit).
//   - Metrics: append, read a closed time range in time order.
//   - Quota: usedBytes() says how much the store holds by its own accounting (cheap: no folder
//     walk); dropLogLinesThrough() deletes the oldest stdout/stderr lines of one deployment (never
//     its system lines, never its next lineNo or cursors) and reclaims their space.
//   - Retention: each data class has a TTL (RetentionPolicy). Reads never return data older than
//     now - TTL (now from the context's clock), even before applyRetention() has reclaimed it.
//     applyRetention() deletes it and reclaims the space.
// Thread-safety: every method may be called concurrently from any thread, except open() and
// close(), which the host calls once each, before and after all others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zc/model.h"
#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"

namespace zc::plugin {

// Time-to-live per data class, in ns. 0 means "keep forever".
struct RetentionPolicy {
  int64_t logsTtl = 7 * 24 * 3600 * kNanosPerSecond;     // stdout + stderr lines
  int64_t systemTtl = 30 * 24 * 3600 * kNanosPerSecond;  // system lines
  int64_t metricsTtl = 3 * 24 * 3600 * kNanosPerSecond;  // metric samples
};

// What one applyRetention() run removed.
struct RetentionReport {
  uint64_t logLinesDeleted = 0;
  uint64_t systemLinesDeleted = 0;
  uint64_t metricSamplesDeleted = 0;
};

// The resume point of one log source (e.g. one container), opaque to storage: the runtime
// encodes it, storage keeps the bytes. `key` names the source within the deployment.
struct LogCursor {
  std::string key;
  std::string value;
  friend bool operator==(const LogCursor&, const LogCursor&) = default;
};

// One atomic log write. Every line's deploymentId equals `deploymentId`; lines[0].lineNo is the
// deployment's stored next lineNo and the rest follow by one. `lines` may be empty when only the
// cursor moves. After success, the deployment's next lineNo is lines.back().lineNo + 1.
struct LogBatch {
  std::string deploymentId;
  std::vector<LogLine> lines;
  std::optional<LogCursor> cursor;
};

// The retention rule every storage applies: data whose timestamp is older than
// retentionCutoff(now, ttl) is expired; ttl 0 keeps forever. Saturates instead of overflowing.
TimeNs retentionCutoff(TimeNs now, int64_t ttl) noexcept;
inline bool isExpired(TimeNs ts, int64_t ttl, TimeNs now) noexcept {
  return ttl > 0 && ts < retentionCutoff(now, ttl);
}

// Checks what the contract says of a batch's shape, independent of stored state: a valid id,
// every line of that deployment, a known stream, lineNos contiguous. InvalidArgument (or
// FailedPrecondition for non-contiguous lineNos) naming the first offending line. Every storage
// plugin calls it first in appendLogs().
Status validateLogBatchShape(const LogBatch& batch);

struct LogPage {
  std::vector<LogLine> lines;
  // The smallest lineNo of the deployment still readable (not expired), or nextLineNo when the
  // log is empty.
  uint64_t oldestLineNo = 1;
  // The lineNo the next appended line will get (1 for a deployment with no lines).
  uint64_t nextLineNo = 1;
};

// How much one readLogs() returns: at most `lines` lines, and no further line once the text of
// the lines returned reaches `bytes` (the line that reaches it is still returned, so a read that
// finds a line returns at least one). A plain count converts: readLogs(id, since, 500).
struct LogReadLimit {
  LogReadLimit(size_t maxLines) noexcept : lines(maxLines) {}  // NOLINT(google-explicit-constructor)
  LogReadLimit(size_t maxLines, size_t maxBytes) noexcept : lines(maxLines), bytes(maxBytes) {}
  size_t lines;
  size_t bytes = std::numeric_limits<size_t>::max();
};

// One collector of a fleet, as a central storage knows it (from the hosts' sinks).
struct HostRecord {
  std::string hostId;        // its --host-id
  std::string advertiseUrl;  // its --advertise-url, or empty
  TimeNs lastSeenAt = 0;     // when its sink last said it is alive
};

struct StorageStats {
  uint64_t bytesOnDisk = 0;  // live files (memory plugin: an estimate of bytes held)
  bool healthy = true;       // false when the last write failed (e.g. disk full)
  std::string detail;        // the reason when not healthy
};

class Storage : public Plugin {
 public:
  static constexpr ZcPluginKind kKind = ZC_PLUGIN_KIND_STORAGE;

  // Opens (creating when needed) the store. Called once, before any other method. Options come
  // from the PluginContext (see each plugin's README).
  virtual Status open() noexcept = 0;
  // Flushes and closes. Called once, after every other call has returned.
  virtual Status close() noexcept = 0;

  virtual void setRetentionPolicy(const RetentionPolicy& policy) noexcept = 0;

  // --- deployments
  virtual Status putDeployment(const Deployment& d) noexcept = 0;
  // NotFound when unknown.
  virtual Result<Deployment> getDeployment(std::string_view id) noexcept = 0;
  // Every deployment, in no particular order.
  virtual Result<std::vector<Deployment>> listDeployments() noexcept = 0;
  // Removes the deployment and all its lines, samples and cursors. Unknown id is success.
  virtual Status deleteDeployment(std::string_view id) noexcept = 0;

  // --- logs
  virtual Status appendLogs(const LogBatch& batch) noexcept = 0;
  // 1 for a deployment that has never had a line.
  virtual Result<uint64_t> nextLineNo(std::string_view deploymentId) noexcept = 0;
  // The stored cursor, or NotFound.
  virtual Result<std::string> getCursor(std::string_view deploymentId,
                                        std::string_view key) noexcept = 0;
  // Lines with lineNo > since, ascending, within `limit` (0 lines returns no lines but fills
  // oldestLineNo / nextLineNo). Expired lines are skipped.
  virtual Result<LogPage> readLogs(std::string_view deploymentId, uint64_t since,
                                   LogReadLimit limit) noexcept = 0;

  // --- metrics
  virtual Status appendMetrics(const std::vector<MetricSample>& samples) noexcept = 0;
  // Samples with from <= sampledAt <= to, ascending. Expired samples are skipped.
  virtual Result<std::vector<MetricSample>> readMetrics(std::string_view deploymentId, TimeNs from,
                                                        TimeNs to) noexcept = 0;

  // --- retention
  // Deletes what is older than now - TTL per class and reclaims the space. Safe to run
  // concurrently with appends and reads.
  virtual Result<RetentionReport> applyRetention() noexcept = 0;

  virtual StorageStats stats() noexcept = 0;

  // --- quota (--max-storage-bytes)
  // The bytes the store holds by its own accounting, cheap enough to ask every few seconds
  // (RocksDB: its table files and memtables from its properties, no folder walk).
  virtual Result<uint64_t> usedBytes() noexcept = 0;
  // Deletes the stdout/stderr lines of `deploymentId` with lineNo <= throughLineNo; system lines,
  // the next lineNo and the cursors stay, so later appends continue the same numbering. Returns
  // once the space is reclaimed (usedBytes() shows it). Unknown id or nothing to drop: success.
  virtual Status dropLogLinesThrough(std::string_view deploymentId,
                                     uint64_t throughLineNo) noexcept = 0;

  // --- fleet (optional)
  // The collectors that forward into this storage (central mode). Default: FailedPrecondition,
  // the storage knows no fleet.
  virtual Result<std::vector<HostRecord>> listHosts() noexcept {
    return Status::failedPrecondition("this storage knows no fleet");
  }

  // --- change feed (optional)
  // For a storage that other processes write (central mode: PostgreSQL filled by the hosts'
  // sinks): waits up to `timeout` for deployments whose row or lines changed elsewhere and
  // returns their ids, each at most once per call (empty after a timeout; a change may be
  // reported although nothing a reader has not seen changed). Unavailable while the feed is
  // lost (the next call reconnects; changes meanwhile are not reported: re-read everything).
  // Called from one thread. Default: FailedPrecondition, the storage has no feed (only this
  // process writes it, and the pipeline publishes what it writes itself).
  virtual Result<std::vector<std::string>> waitForChanges(int64_t timeoutMs) noexcept {
    (void)timeoutMs;
    return Status::failedPrecondition("this storage has no change feed");
  }
};

}  // namespace zc::plugin
