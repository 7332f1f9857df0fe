// CollectorApiImpl: the daemon's answer to host::CollectorApi (what the exporters may ask).
// Thread-safe; validates every id before use.
#pragma once

#include <atomic>
#include <string>

#include "deployment_manager.h"
#include "forwarder.h"
#include "monitors.h"
#include "retention_job.h"
#include "storage_quota.h"
#include "zc/host/collector_api.h"

namespace zc::collector {

class CollectorApiImpl final : public host::CollectorApi {
 public:
  // OWNERSHIP: all must outlive this object. `retention` may be null.
  CollectorApiImpl(DeploymentManager& manager, plugin::Storage& storage, host::LiveBus& bus,
                   const RetentionJob* retention);

  // What /healthz reports beyond the manager and storage: the configured plugin names, whether
  // a runtime is configured, the metrics sampler (may be null), the host identity and the
  // forwarder (may be null). Call before the HTTP server
  // starts; `sampler` must outlive the server's running state.
  struct HealthSources {
    std::string storagePlugin;
    std::string runtimePlugin;
    bool runtimeConfigured = false;
    const MetricsSampler* sampler = nullptr;
    std::string hostId;        // --host-id: every row handed out carries it
    std::string advertiseUrl;  // --advertise-url
    std::string sinkPlugin;    // --sink ("none" without one)
    const Forwarder* forwarder = nullptr;  // null without a sink
    std::string dataDir;  // --data-dir: /metrics reports its filesystem's free space
    bool storageOpen = false;  // the storage subsystem opened the storage (readiness)
  };
  void setHealthSources(HealthSources sources) { health_ = std::move(sources); }
  // The --max-storage-bytes job whose counters /metrics reports (null: none). Any thread; the
  // quota must outlive its registration.
  void setQuota(const StorageQuota* quota) noexcept { quota_.store(quota); }

  std::vector<Deployment> listDeployments() override;
  Result<Deployment> getDeployment(const std::string& id) override;
  Result<plugin::LogPage> readLogs(const std::string& id, uint64_t since,
                                   plugin::LogReadLimit limit) override;
  Result<std::vector<MetricSample>> readMetrics(const std::string& id, TimeNs from, TimeNs to) override;
  Result<Deployment> requestStop(const std::string& id, const host::StopRequester& by) override;
  bool teardownComplete(const std::string& id) override;
  host::LiveBus& bus() override { return bus_; }
  std::vector<host::DeploymentGauges> deploymentGauges() override;
  host::CollectorGauges collectorGauges() override;
  host::CollectorHealth health() override;
  std::string version() override;

 private:
  // The row with this collector's host id.
  Result<Deployment> withHost(Result<Deployment> row) const;

  DeploymentManager& manager_;
  plugin::Storage& storage_;
  host::LiveBus& bus_;
  const RetentionJob* retention_;
  HealthSources health_;
  std::atomic<const StorageQuota*> quota_{nullptr};
};

}  // namespace zc::collector
