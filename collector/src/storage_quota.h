// StorageQuota: keeps the store under --max-storage-bytes by dropping the oldest stdout/stderr
// lines, and says so in each deployment that lost lines.
//
// Every pass asks the storage for its size (Storage::usedBytes(), the store's own accounting, not
// a folder walk). Over the quota, it reads the head of each deployment's log (at most
// `scanLines` lines in all, shared between the deployments) and picks the oldest stdout/stderr
// lines across deployments, by time, until their text adds up to what must go to get back under
// `lowWater` of the quota; each deployment loses a prefix of its stdout/stderr lines
// (Storage::dropLogLinesThrough()), so what remains is contiguous from the last dropped lineNo.
// System lines are never dropped by the quota (retention removes them). With a sink, lines the
// sink has not acknowledged are dropped only when no acknowledged line is left to drop in the
// lines scanned. Each deployment that lost lines gets one system line
//   [GAP] storage quota: dropped <n> stdout/stderr lines, lineNo <a>-<b>, <t1> to <t2>
// (plus ", <k> of them not yet forwarded to the sink" when that happened), written through its
// sequencer. A pass is bounded: one size check, `scanLines` lines read, one drop and one line per
// deployment; a store still over the quota is trimmed again at the next pass.
//
// OWNERSHIP: storage outlives the quota; the callbacks are called on the pass's thread.
// Thread-safety: start()/stop() from one thread; runOnce() from one thread at a time; counters()
// from any.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "periodic_task.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

struct QuotaOptions {
  uint64_t maxBytes = 0;                       // the quota; 0 = none (the job is not built)
  std::chrono::milliseconds interval{5000};    // between passes
  double lowWater = 0.9;                       // a pass over the quota aims at this fraction of it
  size_t scanLines = 200'000;                  // most lines read in one pass, all deployments
  uint64_t lineOverheadBytes = 32;             // counted per dropped line besides its text
};

struct QuotaCounters {
  std::atomic<uint64_t> passes{0};
  std::atomic<uint64_t> linesDropped{0};             // stdout/stderr lines dropped for the quota
  std::atomic<uint64_t> unforwardedLinesDropped{0};  // of them, not yet acknowledged by the sink
  std::atomic<uint64_t> failures{0};
};

// What one pass did.
struct QuotaPass {
  uint64_t usedBytes = 0;  // the size measured at the start of the pass
  uint64_t linesDropped = 0;
  uint64_t unforwardedLinesDropped = 0;
  size_t deploymentsTrimmed = 0;
};

class StorageQuota {
 public:
  // Writes one system line to a deployment (through its sequencer).
  using SystemLineWriter = std::function<Status(const std::string& id, std::string text)>;
  // The last lineNo of a deployment the sink has acknowledged; null when there is no sink.
  using ForwardedThrough = std::function<uint64_t(const std::string& id)>;

  StorageQuota(plugin::Storage& storage, SystemLineWriter systemLine,
               ForwardedThrough forwardedThrough, QuotaOptions options);

  void start() { task_.start(); }
  void stop() noexcept { task_.stop(); }  // idempotent; waits for a running pass

  // One pass, now, on the calling thread.
  Result<QuotaPass> runOnce();

  const QuotaCounters& counters() const noexcept { return counters_; }

 private:
  void runScheduled();

  plugin::Storage& storage_;
  const SystemLineWriter systemLine_;
  const ForwardedThrough forwardedThrough_;
  const QuotaOptions opts_;
  QuotaCounters counters_;
  PeriodicTask task_;  // last: stopped (destroyed) before what its passes use
};

}  // namespace zc::collector
