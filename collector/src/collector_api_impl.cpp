#include "collector_api_impl.h"

#include <sys/statvfs.h>

#include <algorithm>

namespace zc::collector {

CollectorApiImpl::CollectorApiImpl(DeploymentManager& manager, plugin::Storage& storage,
                                   host::LiveBus& bus, const RetentionJob* retention)
    : manager_(manager), storage_(storage), bus_(bus), retention_(retention) {}

std::vector<Deployment> CollectorApiImpl::listDeployments() {
  auto all = manager_.list();
  std::stable_sort(all.begin(), all.end(), [](const Deployment& a, const Deployment& b) {
    return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id < b.id;
  });
  for (Deployment& d : all) d.host = health_.hostId;
  return all;
}

Result<Deployment> CollectorApiImpl::getDeployment(const std::string& id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  return withHost(manager_.get(id));
}

Result<Deployment> CollectorApiImpl::withHost(Result<Deployment> row) const {
  if (row.isOk()) row->host = health_.hostId;
  return row;
}

Result<plugin::LogPage> CollectorApiImpl::readLogs(const std::string& id, uint64_t since,
                                                   plugin::LogReadLimit limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  auto d = manager_.get(id);
  if (!d.isOk()) return d.status();
  return storage_.readLogs(id, since, limit);
}

Result<std::vector<MetricSample>> CollectorApiImpl::readMetrics(const std::string& id, TimeNs from,
                                                                TimeNs to) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  auto d = manager_.get(id);
  if (!d.isOk()) return d.status();
  return storage_.readMetrics(id, from, to);
}

Result<Deployment> CollectorApiImpl::requestStop(const std::string& id,
                                                 const host::StopRequester& by) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  std::string who = by.tokenName.empty() ? "anonymous" : by.tokenName;
  if (!by.address.empty()) who += " from " + by.address;
  return withHost(manager_.requestStop(id, who));
}

bool CollectorApiImpl::teardownComplete(const std::string& id) {
  return isValidDeploymentId(id) && manager_.teardownComplete(id);
}

std::vector<host::DeploymentGauges> CollectorApiImpl::deploymentGauges() {
  std::vector<host::DeploymentGauges> out;
  for (DeploymentSnapshot& s : manager_.snapshot()) {
    host::DeploymentGauges g;
    // Resource figures only while the container runs: those of a deployment that stopped,
    // crashed or lost its container would be stale.
    if (s.lastSample && isLive(s.row)) {
      g.hasSample = true;
      g.cpuSecondsTotal = s.lastSample->cpuSecondsTotal;
      g.cpuPct = s.lastSample->cpuPct;
      g.memUsedBytes = s.lastSample->memUsedBytes;
      g.memLimitBytes = s.lastSample->memLimitBytes;
    }
    g.row = std::move(s.row);
    g.linesStdout = s.linesByStream[0];
    g.linesStderr = s.linesByStream[1];
    g.linesSystem = s.linesByStream[2];
    g.crashes = s.crashes;
    g.consecutiveHealthFailures = s.consecutiveHealthFailures;
    out.push_back(std::move(g));
  }
  return out;
}

host::CollectorGauges CollectorApiImpl::collectorGauges() {
  host::CollectorGauges g;
  g.hostId = health_.hostId;
  if (health_.forwarder != nullptr) {
    ForwardStats f = health_.forwarder->stats();
    g.hasSink = true;
    g.forwardLagLines = f.lagLines;
    g.forwardLagSeconds = f.lagSeconds;
  }
  const PipelineCounters& c = manager_.counters();
  g.linesIngested = c.linesIngested.load();
  g.bytesIngested = c.bytesIngested.load();
  g.batchesCommitted = c.batchesCommitted.load();
  g.commitFailures = c.commitFailures.load();
  g.logGaps = c.logGaps.load();
  g.engineConnects = c.engineConnects.load();
  g.engineDisconnects = c.engineDisconnects.load();
  g.ingestLagSeconds = static_cast<double>(c.lastIngestLagNs.load()) / kNanosPerSecond;
  if (retention_) {
    const RetentionCounters& r = retention_->counters();
    g.retentionRuns = r.runs.load();
    g.retentionDeletedLogLines = r.logLinesDeleted.load();
    g.retentionDeletedSystemLines = r.systemLinesDeleted.load();
    g.retentionDeletedMetricSamples = r.metricSamplesDeleted.load();
  }
  if (const StorageQuota* quota = quota_.load()) {
    g.quotaDroppedLines = quota->counters().linesDropped.load();
  }
  plugin::StorageStats st = storage_.stats();
  g.storageBytes = st.bytesOnDisk;
  g.storageHealthy = st.healthy;
  struct statvfs fs {};
  if (!health_.dataDir.empty() && ::statvfs(health_.dataDir.c_str(), &fs) == 0) {
    g.dataDirFreeBytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    g.dataDirSizeBytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  }
  g.activeFollows = manager_.activeFollows();
  g.runtimeConnected = manager_.runtimeConnected();
  return g;
}

host::CollectorHealth CollectorApiImpl::health() {
  host::CollectorHealth h;
  h.hostId = health_.hostId;
  h.advertiseUrl = health_.advertiseUrl;
  if (health_.forwarder != nullptr) {
    ForwardStats f = health_.forwarder->stats();
    h.hasSink = true;
    h.sinkPlugin = health_.sinkPlugin;
    h.sinkConnected = f.connected;
    h.sinkDetail = f.detail;
    h.forwardLagLines = f.lagLines;
    h.forwardLagSeconds = f.lagSeconds;
    h.linesForwarded = f.linesForwarded;
  }
  plugin::StorageStats st = storage_.stats();
  h.storagePlugin = health_.storagePlugin;
  h.storageOk = st.healthy;
  h.storageDetail = st.detail;
  h.runtimePlugin = health_.runtimePlugin;
  h.runtimeConfigured = health_.runtimeConfigured;
  h.runtimeConnected = health_.runtimeConfigured && manager_.runtimeConnected();
  h.runtimeAwayTooLong =
      health_.runtimeConfigured && manager_.runtimeDisconnectedFor() > host::kRuntimeDegradedAfter;
  h.storageOpen = health_.storageOpen;
  h.discoveryDone = manager_.rowsReconciled();
  h.activeFollows = manager_.activeFollows();
  h.deployments = manager_.list().size();
  const PipelineCounters& c = manager_.counters();
  h.linesIngested = c.linesIngested.load();
  h.batchesCommitted = c.batchesCommitted.load();
  h.commitFailures = c.commitFailures.load();
  h.claimConflicts = manager_.claimConflicts(host::kMaxClaimConflictsShown);
  if (health_.sampler != nullptr) {
    MetricsSampler::Sweep sw = health_.sampler->lastSweep();
    h.hasMetricsSampler = true;
    h.sweeps = sw.count;
    h.lastSweepTargets = sw.targets;
    h.lastSweepStored = sw.stored;
    h.lastSweepMs = sw.durationMs;
  }
  return h;
}

std::string CollectorApiImpl::version() { return ZC_VERSION; }

}  // namespace zc::collector
