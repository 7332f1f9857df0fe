#include "access_limiter.h"

#include <algorithm>

namespace zc::exporters {

FailureLimiter::FailureLimiter(int maxFailures, std::chrono::seconds window, size_t maxAddresses)
    : maxFailures_(maxFailures),
      window_(window),
      maxAddresses_(std::max<size_t>(1, maxAddresses)) {}

int FailureLimiter::blockedFor(const std::string& address, Clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end() || it->second.failures <= maxFailures_) return 0;
  auto left = it->second.opened + window_ - now;
  if (left <= Clock::duration::zero()) return 0;
  auto secs = std::chrono::ceil<std::chrono::seconds>(left).count();
  return static_cast<int>(std::max<int64_t>(1, secs));
}

void FailureLimiter::recordFailure(const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = windows_.find(address);
  if (it != windows_.end() && now - it->second.opened >= window_) {
    it->second = Window{now, 0};  // the old window has passed: a new one opens
  }
  if (it == windows_.end()) {
    if (windows_.size() >= maxAddresses_) {
      auto oldest = std::min_element(windows_.begin(), windows_.end(), [](auto& a, auto& b) {
        return a.second.opened < b.second.opened;
      });
      windows_.erase(oldest);
    }
    it = windows_.emplace(address, Window{now, 0}).first;
  }
  ++it->second.failures;
}

size_t FailureLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return windows_.size();
}

}  // namespace zc::exporters
