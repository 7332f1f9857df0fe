#include "zc/plugin/retention_ttls.h"

#include <algorithm>

namespace zc::plugin {

RetentionTtls::RetentionTtls() noexcept {
  set(RetentionPolicy{});
}

void RetentionTtls::set(const RetentionPolicy& policy) noexcept {
  logs_.store(std::max<int64_t>(policy.logsTtl, 0));
  system_.store(std::max<int64_t>(policy.systemTtl, 0));
  metrics_.store(std::max<int64_t>(policy.metricsTtl, 0));
}

RetentionPolicy RetentionTtls::policy() const noexcept {
  RetentionPolicy p;
  p.logsTtl = logsTtl();
  p.systemTtl = systemTtl();
  p.metricsTtl = metricsTtl();
  return p;
}

}  // namespace zc::plugin
