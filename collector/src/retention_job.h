// RetentionJob: deletes expired data on a schedule: once at start(), then every `interval`.
//
// The cutoffs themselves come from the storage's RetentionPolicy and its clock (injectable in
// tests); this job only decides when to run, on a PeriodicTask. Thread-safety: start()/stop()
// from one thread; runOnce() and counters from any.
#pragma once

#include <atomic>
#include <cstdint>

#include "periodic_task.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

struct RetentionCounters {
  std::atomic<uint64_t> runs{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> logLinesDeleted{0};
  std::atomic<uint64_t> systemLinesDeleted{0};
  std::atomic<uint64_t> metricSamplesDeleted{0};
};

class RetentionJob {
 public:
  // OWNERSHIP: storage must outlive the job.
  RetentionJob(plugin::Storage& storage, int64_t intervalNs);

  void start() { task_.start(); }
  void stop() noexcept { task_.stop(); }  // idempotent; waits for a running pass to finish
  // One pass, now, on the calling thread.
  Result<plugin::RetentionReport> runOnce();

  const RetentionCounters& counters() const noexcept { return counters_; }

 private:
  // One scheduled pass: runOnce() and its log line.
  void runScheduled();

  plugin::Storage& storage_;
  RetentionCounters counters_;
  PeriodicTask task_;  // last: stopped (destroyed) before what its passes use
};

}  // namespace zc::collector
