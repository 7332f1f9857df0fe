// The periodic monitors of running deployments:
//   HealthProber   every interval, GET http://127.0.0.1:<hostPort>/health of each running or
//                  unhealthy deployment with a host port, concurrently (bounded), with a timeout;
//                  any 2xx is success. Outcomes go to DeploymentManager::recordHealthResult().
//   MetricsSampler every interval, one resource sample per running deployment through ONE
//                  Runtime::sampleResourcesBatch() call from its task thread (the runtime asks
//                  for all of them at once), stored as MetricSamples in one write.
// Neither looks at any deployment before the manager's rows are reconciled with the runtime
// (DeploymentManager::rowsReconciled()), nor at one whose container is gone (its row is stopped).
// Each runs its passes on a PeriodicTask (first pass at start()); the prober runs the probes of a
// pass on its own WorkPool of `parallelism` workers, made once and kept until stop(), so a pass
// starts no thread.
// runOnce() does one pass from the caller's thread (tests). Thread-safety: start/stop from one
// thread; never runOnce() concurrently with itself.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "deployment_manager.h"
#include "periodic_task.h"
#include "work_pool.h"

namespace zc::collector {

struct HealthOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(60)};
  std::chrono::milliseconds timeout{std::chrono::seconds(2)};
  size_t parallelism = 16;  // probes in flight at once
};

class HealthProber {
 public:
  HealthProber(DeploymentManager& manager, HealthOptions options);
  void start() { task_.start(); }
  // Waits for a pass in progress, then joins the pool's workers.
  void stop() noexcept;
  void runOnce();
  // One probe: true for a 2xx answer within the timeout.
  static bool probe(int port, std::chrono::milliseconds timeout);

 private:
  DeploymentManager& manager_;
  const HealthOptions options_;
  WorkPool pool_;
  PeriodicTask task_;  // after pool_: stopped (destroyed) before it
};

struct SamplerOptions {
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  // Stats requests in flight at once within a pass (Runtime::sampleResourcesBatch()'s
  // maxInFlight): one connection each, no thread. The engine answers a one-shot stats request
  // after its next 1 s collection tick, so requests in flight together share a tick: a pass takes
  // about ceil(targets / maxInFlight) ticks (and one tick more when a container is seen for the
  // first time: the runtime takes a second reading to measure its CPU).
  size_t maxInFlight = 256;
};

class MetricsSampler {
 public:
  // OWNERSHIP: all must outlive the sampler.
  MetricsSampler(DeploymentManager& manager, plugin::Runtime& runtime, plugin::Storage& storage,
                 SamplerOptions options);
  void start() { task_.start(); }
  // Waits for a pass in progress.
  void stop() noexcept;
  void runOnce();
  uint64_t samplesStored() const noexcept { return stored_.load(); }

  // The last completed pass (all zero before the first): when it ended, how many running
  // deployments it sampled, how many samples it stored, and how long it took from the first
  // request to the stored write. Shown on /healthz; bench/fleet reads it.
  struct Sweep {
    uint64_t count = 0;  // passes completed so far
    size_t targets = 0;
    size_t stored = 0;
    double durationMs = 0;
  };
  Sweep lastSweep() const;

 private:
  DeploymentManager& manager_;
  plugin::Runtime& runtime_;
  plugin::Storage& storage_;
  const SamplerOptions options_;
  std::atomic<uint64_t> stored_{0};
  mutable std::mutex sweepMu_;
  Sweep lastSweep_;  // GUARDED_BY(sweepMu_)
  PeriodicTask task_;  // last: stopped (destroyed) first
};

}  // namespace zc::collector
