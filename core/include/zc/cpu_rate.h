// CPU % of a container from one cumulative reading per stats request, for runtimes whose stats
// answer carries no usable previous reading (Docker's one-shot stats: `precpu` is empty; Podman's
// are the same, and runtime_podman keeps its own previous reading for now). The runtime keeps the previous reading of each container here and gets the rate over
// the interval between the two, as `docker stats` computes it:
//   (cpu - prev cpu) / (system - prev system) * online CPUs * 100   (100 = one full core).
//
// No rate (nullopt) rather than a made-up figure when there is no usable previous reading:
//   - the container's first reading (or the first after forget());
//   - a counter that went backwards: the container was restarted (its CPU time starts again
//     from 0) or the reading came from a stopped container (all zero); the new reading becomes
//     the baseline;
//   - no system time passed (both readings from the same engine tick); the older reading stays
//     the baseline, so the next reading measures over a real interval.
// An empty reading (system time 0: the engine's answer for a container that is not running) is
// not kept. A rate is clamped to [0, online CPUs * 100]: the two counters are read at slightly
// different moments and must not make a figure no container can reach.
//
// Header-only and dependency-free so that every runtime plugin can use it.
// Thread-safety: CpuRateTracker is thread-safe; cpuRate() is pure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "zc/model.h"

namespace zc {

// One cumulative reading.
struct CpuReading {
  TimeNs read = 0;          // when the engine took it (0 = unknown)
  uint64_t cpuTotalNs = 0;  // CPU time the container has used (its current run), ns
  uint64_t systemNs = 0;    // the host's CPU time counter at the same moment, ns (0 = empty)
  uint32_t onlineCpus = 0;  // 0 = unknown (counted as 1)
};

// The rate between `prev` and `cur` under the rules above; nullopt when `prev` is no baseline.
inline std::optional<double> cpuRate(const CpuReading& prev, const CpuReading& cur) noexcept {
  if (prev.systemNs == 0 || cur.systemNs == 0) return std::nullopt;
  if (cur.cpuTotalNs < prev.cpuTotalNs || cur.systemNs <= prev.systemNs) return std::nullopt;
  const double cpuDelta = static_cast<double>(cur.cpuTotalNs - prev.cpuTotalNs);
  const double sysDelta = static_cast<double>(cur.systemNs - prev.systemNs);
  const double cpus = cur.onlineCpus ? cur.onlineCpus : 1;
  return std::clamp(cpuDelta / sysDelta * cpus * 100.0, 0.0, cpus * 100.0);
}

// The previous reading of each container, keyed by container id.
class CpuRateTracker {
 public:
  // Records `cur` as `containerId`'s reading and returns the rate since the previous one, or
  // nullopt (see above).
  std::optional<double> update(std::string_view containerId, const CpuReading& cur) {
    if (cur.systemNs == 0) return std::nullopt;  // empty: not a baseline either
    std::lock_guard<std::mutex> lock(mu_);
    auto it = byContainer_.find(containerId);
    if (it == byContainer_.end()) {
      byContainer_.emplace(std::string(containerId), cur);
      return std::nullopt;
    }
    std::optional<double> rate = cpuRate(it->second, cur);
    // Same tick: keep the older baseline; otherwise (a rate, or a reset) the new one.
    if (rate || cur.systemNs != it->second.systemNs) it->second = cur;
    return rate;
  }
  // Drops `containerId`'s reading (the container is gone). Unknown ids are ignored.
  void forget(std::string_view containerId) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = byContainer_.find(containerId);
    if (it != byContainer_.end()) byContainer_.erase(it);
  }
  // Containers with a reading kept.
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return byContainer_.size();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, CpuReading, std::less<>> byContainer_;  // guarded by mu_
};

}  // namespace zc
