// FailureLimiter: counts failed authentications per peer address in a fixed window that opens
// with the first failure. More than `maxFailures` within `window` blocks the address until the
// window ends. The table holds at most `maxAddresses` entries; when full, the entry whose window
// opened first is evicted. Time is passed in, so tests need no sleeping.
//
// Thread-safety: every method is thread-safe (one mutex; each call is O(1) except an eviction,
// which scans the table once).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace zc::exporters {

class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  FailureLimiter(int maxFailures, std::chrono::seconds window, size_t maxAddresses);

  // Seconds until `address` may try again (rounded up, at least 1); 0 when it is not blocked.
  int blockedFor(const std::string& address, Clock::time_point now) const;
  void recordFailure(const std::string& address, Clock::time_point now);
  size_t tracked() const;

 private:
  struct Window {
    Clock::time_point opened;
    int failures = 0;
  };
  const int maxFailures_;
  const std::chrono::seconds window_;
  const size_t maxAddresses_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // guarded by mu_
};

}  // namespace zc::exporters
