// FakeCollectorApi: the CollectorApi the exporter tests run against. Rows, lines and samples live
// in the real memory storage plugin (compiled in); lines are committed to storage and then
// published on a real LiveBus, in that order, as the daemon's pipeline does.
//
// Thread-safety: every method may be called from any thread; appends to one deployment are
// serialised (one sequencer per deployment, like the daemon).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "test_support.h"
#include "zc/clock.h"
#include "zc/host/collector_api.h"
#include "zc/plugin/storage.h"

namespace zc::testing {

class FakeCollectorApi final : public host::CollectorApi {
 public:
  FakeCollectorApi();
  ~FakeCollectorApi() override;

  // Inserts or replaces a deployment row.
  void putDeployment(const Deployment& d);
  // A running deployment `id` created at `createdAt` with the other fields absent.
  void addDeployment(const std::string& id, TimeNs createdAt = 0);
  // Commits `texts` as the next lines of `id` (one batch), then publishes them. Returns them.
  std::vector<LogLine> appendLines(const std::string& id, const std::vector<std::string>& texts,
                                   LogStream stream = LogStream::kStdout);
  // `n` lines in one batch; text(i, lineNo) gives the text of the i-th.
  std::vector<LogLine> appendGenerated(const std::string& id, size_t n,
                                       const std::function<std::string(size_t, uint64_t)>& text,
                                       LogStream stream = LogStream::kStdout);
  // `n` lines "line <lineNo>" in one batch.
  std::vector<LogLine> appendNumbered(const std::string& id, size_t n);
  void appendSamples(const std::vector<MetricSample>& samples);
  // Updates the row's status and publishes it.
  void setStatus(const std::string& id, DeploymentStatus status);
  // Marks the teardown of `id` complete and publishes the end (as the lifecycle would).
  void completeTeardown(const std::string& id);
  // Called at the start of every readLogs() (e.g. to slow reads down or append during them).
  void setReadHook(std::function<void()> hook);
  // /metrics figures; when unset, deploymentGauges() derives plain ones from the rows.
  void setDeploymentGauges(std::vector<host::DeploymentGauges> gauges);
  void setCollectorGauges(const host::CollectorGauges& gauges);
  // /healthz figures; when unset, health() reports memory storage, no runtime, the row count.
  void setHealth(const host::CollectorHealth& health);
  plugin::Storage& storage() { return *storage_; }
  uint64_t readLogsCalls() const { return readLogsCalls_.load(); }

  std::vector<Deployment> listDeployments() override;
  Result<Deployment> getDeployment(const std::string& id) override;
  Result<plugin::LogPage> readLogs(const std::string& id, uint64_t since, plugin::LogReadLimit limit) override;
  Result<std::vector<MetricSample>> readMetrics(const std::string& id, TimeNs from,
                                                TimeNs to) override;
  Result<Deployment> requestStop(const std::string& id, const host::StopRequester& by) override;
  bool teardownComplete(const std::string& id) override;
  host::LiveBus& bus() override { return bus_; }
  std::vector<host::DeploymentGauges> deploymentGauges() override;
  host::CollectorGauges collectorGauges() override;
  host::CollectorHealth health() override;
  std::string version() override { return "0.1.0"; }

  // Every requestStop() call's requester, in order.
  std::vector<host::StopRequester> stopRequests() const {
    std::lock_guard lock(stopsMu_);
    return stops_;
  }

 private:
  mutable std::mutex stopsMu_;
  std::vector<host::StopRequester> stops_;
  NullLogger logger_;
  std::unique_ptr<plugin::Storage> storage_;
  host::LiveBus bus_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> sequencers_;
  std::map<std::string, bool> teardown_;
  std::function<void()> readHook_;
  std::optional<std::vector<host::DeploymentGauges>> gauges_;
  host::CollectorGauges collector_;
  std::optional<host::CollectorHealth> health_;
  std::atomic<uint64_t> readLogsCalls_{0};
};

}  // namespace zc::testing
