// RetentionTtls: the retention policy a storage plugin holds for its reads and applyRetention().
//
// Storage::setRetentionPolicy() may come at any time, concurrently with reads, appends and
// applyRetention(), so each TTL is one atomic. It starts at RetentionPolicy's defaults; set()
// stores a negative TTL as 0 (keep forever). The three TTLs are read one by one, not as one
// snapshot: a read racing set() may see the old TTL of one class and the new TTL of another,
// which the storage contract allows (each class is retained on its own).
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>

#include "zc/plugin/storage.h"

namespace zc::plugin {

class RetentionTtls {
 public:
  // RetentionPolicy's defaults.
  RetentionTtls() noexcept;
  RetentionTtls(const RetentionTtls&) = delete;
  RetentionTtls& operator=(const RetentionTtls&) = delete;

  // Takes the three TTLs of `policy`, each clamped to >= 0.
  void set(const RetentionPolicy& policy) noexcept;

  // The TTL of each class, in ns; 0 keeps forever.
  int64_t logsTtl() const noexcept { return logs_.load(); }
  int64_t systemTtl() const noexcept { return system_.load(); }
  int64_t metricsTtl() const noexcept { return metrics_.load(); }
  // The three TTLs (read one by one).
  RetentionPolicy policy() const noexcept;

 private:
  std::atomic<int64_t> logs_;
  std::atomic<int64_t> system_;
  std::atomic<int64_t> metrics_;
};

}  // namespace zc::plugin
