// Clock: the one source of "now" for retention, sampling and timestamps of system lines.
//
// Production code uses systemClock(); tests inject a ManualClock so that TTLs and intervals are
// proven without sleeping. Implementations must be thread-safe.
#pragma once

#include <atomic>

#include "zc/model.h"

namespace zc {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, ns since the Unix epoch. Thread-safe.
  virtual TimeNs now() const noexcept = 0;
};

// The process-wide real clock (CLOCK_REALTIME). Never null; lives for the whole process.
Clock& systemClock() noexcept;

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeNs start) noexcept : now_(start) {}
  TimeNs now() const noexcept override { return now_.load(std::memory_order_acquire); }
  void set(TimeNs t) noexcept { now_.store(t, std::memory_order_release); }
  void advance(int64_t ns) noexcept { now_.fetch_add(ns, std::memory_order_acq_rel); }

 private:
  std::atomic<TimeNs> now_;
};

}  // namespace zc
