// RetentionJob: deletes expired data on a schedule: once at start(), then every `interval`.
//
// The cutoffs themselves come from the storage's RetentionPolicy and its clock (injectable in
// tests); this job only decides when to run. Thread-safety: start()/stop() from one thread;
// runOnce() and counters from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

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
  ~RetentionJob();

  void start();
  void stop() noexcept;  // idempotent; waits for a running pass to finish
  // One pass, now, on the calling thread.
  Result<plugin::RetentionReport> runOnce();

  const RetentionCounters& counters() const noexcept { return counters_; }

 private:
  void loop();

  plugin::Storage& storage_;
  const int64_t intervalNs_;
  RetentionCounters counters_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zc::collector
