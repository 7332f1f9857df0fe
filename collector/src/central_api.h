// Central mode: `--runtime none` with a storage that other processes write (one with a change
// feed: storage_postgres, filled by the hosts' sinks). The daemon follows no container; it serves
// the fleet's deployments, lines and samples straight from storage.
//
// CentralApi answers the exporters from storage on every call (the rows change under it: the
// hosts forward them), each row keeping the `host` storage gives it. requestStop() records the
// stop in storage (status `stopped`): the owning host's collector reads it through its sink and
// runs its usual stop; the rows and lines that stop produces flow back the same way.
//
// CentralFeed is the thread that makes SSE live: it waits on the storage's change feed
// (Storage::waitForChanges(), PostgreSQL LISTEN/NOTIFY) and publishes on the LiveBus the lines
// of each changed deployment after the last lineNo it published, and its status when it changed.
// After a lost feed (and at start) it re-reads every deployment once, so nothing committed
// meanwhile is left unpublished. lineNos are the hosts' own, so `id:` / `Last-Event-ID` mean the
// same as on the host.
//
// OWNERSHIP: storage, bus and clock outlive both objects. Thread-safety: CentralApi as
// host::CollectorApi (any thread); CentralFeed start()/stop() from one thread.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "retention_job.h"
#include "zc/host/collector_api.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

// True when `storage` has a change feed (central mode is possible with it).
bool hasChangeFeed(plugin::Storage& storage);

class CentralApi final : public host::CollectorApi {
 public:
  struct Identity {
    std::string hostId;  // this instance's --host-id (in /healthz; rows keep their own host)
    std::string advertiseUrl;
    std::string storagePlugin;
  };
  CentralApi(plugin::Storage& storage, host::LiveBus& bus, const RetentionJob* retention,
             Identity identity);

  std::vector<Deployment> listDeployments() override;
  Result<Deployment> getDeployment(const std::string& id) override;
  Result<plugin::LogPage> readLogs(const std::string& id, uint64_t since,
                                   plugin::LogReadLimit limit) override;
  Result<std::vector<MetricSample>> readMetrics(const std::string& id, TimeNs from,
                                                TimeNs to) override;
  // Records status `stopped` in storage (a stop request for the owning host). A deployment
  // already stopped is answered as it is.
  Result<Deployment> requestStop(const std::string& id, const host::StopRequester& by) override;
  // Stopped and its container cleared: the owning host has torn it down.
  bool teardownComplete(const std::string& id) override;
  host::LiveBus& bus() override { return bus_; }
  std::vector<host::DeploymentGauges> deploymentGauges() override;
  host::CollectorGauges collectorGauges() override;
  host::CollectorHealth health() override;
  std::string version() override;
  Result<std::vector<plugin::HostRecord>> liveHosts() override;

 private:
  plugin::Storage& storage_;
  host::LiveBus& bus_;
  const RetentionJob* retention_;
  Identity identity_;
};

class CentralFeed {
 public:
  CentralFeed(plugin::Storage& storage, host::LiveBus& bus);
  ~CentralFeed();
  CentralFeed(const CentralFeed&) = delete;
  CentralFeed& operator=(const CentralFeed&) = delete;

  // Notes where every deployment's lines end now (what is already stored is not "live"), then
  // starts the thread.
  void start();
  void stop() noexcept;

 private:
  struct Known {
    uint64_t lastPublished = 0;
    DeploymentStatus status = DeploymentStatus::kRunning;
    bool ended = false;
  };
  void run();
  // Publishes what changed of `id` since last time (bounded: at most kMaxReads reads a call).
  void publish(const std::string& id);
  void catchUpAll();

  plugin::Storage& storage_;
  host::LiveBus& bus_;
  std::map<std::string, Known> known_;  // feed thread only (after start())
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace zc::collector
