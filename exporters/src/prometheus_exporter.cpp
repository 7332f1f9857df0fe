#include "zc/exporters/prometheus_exporter.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include <array>
#include <set>
#include <sstream>

#include "build_info.h"
#include "http_metrics.h"
#include "metrics_route.h"
#include "process_stats.h"
#include "zc/exporters/json_writer.h"

namespace zc::exporters {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

constexpr std::array<DeploymentStatus, 4> kStatuses = {
    DeploymentStatus::kRunning, DeploymentStatus::kUnhealthy, DeploymentStatus::kCrashed,
    DeploymentStatus::kStopped};
constexpr std::array<LogStream, 3> kStreams = {LogStream::kStdout, LogStream::kStderr,
                                               LogStream::kSystem};

// Counters come from the collector as absolute monotonic values.
void setCounter(Counter& c, double v) {
  double d = v - c.Value();
  if (d > 0) c.Increment(d);
}

bool runs(DeploymentStatus s) {
  return s == DeploymentStatus::kRunning || s == DeploymentStatus::kUnhealthy;
}

Family<Gauge>& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

Family<Counter>& counter(prometheus::Registry& r, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

struct PrometheusExporter::Families {
  explicit Families(prometheus::Registry& r)
      : cpuSeconds(counter(r, "zynd_deployment_cpu_seconds_total",
                           "CPU time used by the deployment's container, in seconds.")),
        cpuPercent(gauge(r, "zynd_deployment_cpu_percent",
                         "CPU usage at the last sample, in percent of one core (100 = one core).")),
        memUsed(gauge(r, "zynd_deployment_memory_used_bytes",
                      "Memory used by the container at the last sample (without inactive file "
                      "cache), in bytes.")),
        memLimit(gauge(r, "zynd_deployment_memory_limit_bytes",
                       "Memory limit of the container at the last sample, in bytes.")),
        status(gauge(r, "zynd_deployment_status",
                     "Deployment status as a state set: 1 for the current status, 0 otherwise.")),
        logLines(counter(r, "zynd_deployment_log_lines_total",
                         "Log lines ingested by this collector process, by stream.")),
        crashes(counter(r, "zynd_deployment_crashes_total",
                        "Crashes of the deployment seen by this collector process.")),
        healthFailures(gauge(r, "zynd_deployment_health_consecutive_failures",
                             "Consecutive failed health probes.")),
        lastExitCode(
            gauge(r, "zynd_deployment_last_exit_code", "Exit code of the container's last exit.")),
        linesIngested(counter(r, "zynd_collector_log_lines_ingested_total",
                              "Log lines committed to storage.")),
        bytesIngested(counter(r, "zynd_collector_log_bytes_ingested_total",
                              "Bytes of log text committed to storage.")),
        batchesCommitted(counter(r, "zynd_collector_batches_committed_total",
                                 "Log batches committed to storage.")),
        commitFailures(counter(r, "zynd_collector_commit_failures_total",
                               "Log batches storage refused or failed to write.")),
        engineConnects(counter(r, "zynd_collector_engine_connects_total",
                               "Connections made to the container engine.")),
        engineDisconnects(counter(r, "zynd_collector_engine_disconnects_total",
                                  "Connections to the container engine lost.")),
        logGaps(counter(r, "zynd_collector_log_gaps_total",
                        "Gaps recorded ([GAP] lines): log lines the engine no longer held.")),
        quotaDroppedLines(counter(r, "zynd_collector_quota_dropped_lines_total",
                                  "stdout/stderr lines dropped to stay under "
                                  "--max-storage-bytes.")),
        retentionRuns(counter(r, "zynd_collector_retention_runs_total", "Retention runs.")),
        retentionLogLines(counter(r, "zynd_collector_retention_deleted_log_lines_total",
                                  "stdout/stderr lines deleted by retention.")),
        retentionSystemLines(counter(r, "zynd_collector_retention_deleted_system_lines_total",
                                     "System lines deleted by retention.")),
        retentionSamples(counter(r, "zynd_collector_retention_deleted_metric_samples_total",
                                 "Metric samples deleted by retention.")),
        ingestLag(gauge(r, "zynd_collector_ingest_lag_seconds",
                        "Age of the newest line of the last committed batch when it was "
                        "committed, in seconds.")),
        storageBytes(
            gauge(r, "zynd_collector_storage_bytes", "Size of the stored data, in bytes.")),
        dataDirFree(gauge(r, "zynd_collector_data_dir_free_bytes",
                          "Bytes available to the collector on the filesystem of --data-dir.")),
        dataDirSize(gauge(r, "zynd_collector_data_dir_size_bytes",
                          "Size of the filesystem of --data-dir, in bytes.")),
        storageHealthy(gauge(r, "zynd_collector_storage_healthy",
                             "1 when the last storage write succeeded, 0 otherwise.")),
        activeFollows(
            gauge(r, "zynd_collector_active_follows", "Container log streams being followed.")),
        runtimeConnected(gauge(r, "zynd_collector_runtime_connected",
                               "1 when the container engine is reachable, 0 otherwise.")),
        sseClients(gauge(r, "zynd_collector_sse_clients", "Open SSE log streams.")),
        sseOpened(counter(r, "zynd_collector_sse_streams_opened_total", "SSE log streams opened.")),
        sseRejected(counter(r, "zynd_collector_sse_streams_rejected_total",
                            "SSE log streams refused with 503 at the cap.")),
        sseDropped(counter(r, "zynd_collector_sse_streams_dropped_total",
                           "SSE log streams disconnected because the client did not keep up.")),
        sseEnded(counter(r, "zynd_collector_sse_streams_ended_total",
                         "SSE log streams closed after event: end.")),
        forwardLagLines(gauge(r, "zynd_collector_forward_lag_lines",
                              "Committed log lines the sink has not acknowledged yet.")),
        forwardLagSeconds(gauge(r, "zynd_collector_forward_lag_seconds",
                                "Age of the oldest log line the sink has not acknowledged yet, "
                                "in seconds.")),
        info(gauge(r, "zynd_collector_info",
                   "Constant 1, labelled with the collector's version and host id.")),
        buildInfo(gauge(r, "zynd_collector_build_info",
                        "Constant 1, labelled with the version and the git revision built.")),
        deploymentInfo(gauge(r, "zynd_deployment_info",
                             "Constant 1, labelled with the deployment's name, slug, kind (its "
                             "entity type) and host id, for joins on `deployment`.")),
        processCpu(counter(r, "process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.")),
        processRss(gauge(r, "process_resident_memory_bytes", "Resident memory size in bytes.")),
        processOpenFds(gauge(r, "process_open_fds", "Number of open file descriptors.")),
        processMaxFds(gauge(r, "process_max_fds", "Maximum number of open file descriptors.")),
        processThreads(gauge(r, "process_threads", "Number of OS threads in the process.")),
        processStart(gauge(r, "process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.")) {}

  Family<Counter>& cpuSeconds;
  Family<Gauge>& cpuPercent;
  Family<Gauge>& memUsed;
  Family<Gauge>& memLimit;
  Family<Gauge>& status;
  Family<Counter>& logLines;
  Family<Counter>& crashes;
  Family<Gauge>& healthFailures;
  Family<Gauge>& lastExitCode;
  Family<Counter>& linesIngested;
  Family<Counter>& bytesIngested;
  Family<Counter>& batchesCommitted;
  Family<Counter>& commitFailures;
  Family<Counter>& engineConnects;
  Family<Counter>& engineDisconnects;
  Family<Counter>& logGaps;
  Family<Counter>& quotaDroppedLines;
  Family<Counter>& retentionRuns;
  Family<Counter>& retentionLogLines;
  Family<Counter>& retentionSystemLines;
  Family<Counter>& retentionSamples;
  Family<Gauge>& ingestLag;
  Family<Gauge>& storageBytes;
  Family<Gauge>& dataDirFree;
  Family<Gauge>& dataDirSize;
  Family<Gauge>& storageHealthy;
  Family<Gauge>& activeFollows;
  Family<Gauge>& runtimeConnected;
  Family<Gauge>& sseClients;
  Family<Counter>& sseOpened;
  Family<Counter>& sseRejected;
  Family<Counter>& sseDropped;
  Family<Counter>& sseEnded;
  Family<Gauge>& forwardLagLines;
  Family<Gauge>& forwardLagSeconds;
  Family<Gauge>& info;
  Family<Gauge>& buildInfo;
  Family<Gauge>& deploymentInfo;
  Family<Counter>& processCpu;
  Family<Gauge>& processRss;
  Family<Gauge>& processOpenFds;
  Family<Gauge>& processMaxFds;
  Family<Gauge>& processThreads;
  Family<Gauge>& processStart;
};

// The series of one deployment; optional ones are null while absent.
struct PrometheusExporter::DeploymentSeries {
  Counter* cpuSeconds = nullptr;
  Gauge* cpuPercent = nullptr;
  Gauge* memUsed = nullptr;
  Gauge* memLimit = nullptr;
  std::array<Gauge*, kStatuses.size()> status{};
  std::array<Counter*, kStreams.size()> lines{};
  Counter* crashes = nullptr;
  Gauge* healthFailures = nullptr;
  Gauge* lastExitCode = nullptr;
  Gauge* info = nullptr;
  prometheus::Labels infoLabels;  // those of `info`
};

namespace {

template <typename T>
void dropSeries(Family<T>& family, T*& metric) {
  if (metric != nullptr) family.Remove(metric);
  metric = nullptr;
}

// A label value taken from a container label: valid UTF-8 and bounded, whatever the deployer set.
std::string infoValue(const std::string& v) {
  constexpr size_t kMaxBytes = 128;
  return sanitizeUtf8(std::string_view(v).substr(0, kMaxBytes));
}

template <typename T>
T& ensure(Family<T>& family, T*& metric, const prometheus::Labels& labels) {
  if (metric == nullptr) metric = &family.Add(labels);
  return *metric;
}

}  // namespace

PrometheusExporter::PrometheusExporter(host::CollectorApi& api, const SseHub* hub)
    : api_(api),
      hub_(hub),
      registry_(std::make_shared<prometheus::Registry>()),
      f_(std::make_unique<Families>(*registry_)),
      http_(std::make_unique<HttpMetrics>(*registry_)) {}

PrometheusExporter::~PrometheusExporter() = default;

RequestObserver& PrometheusExporter::requestObserver() noexcept {
  return *http_;
}

void PrometheusExporter::refresh() {
  Families& f = *f_;
  host::CollectorGauges c = api_.collectorGauges();
  std::vector<host::DeploymentGauges> all = api_.deploymentGauges();
  std::set<std::string> seen;
  for (const auto& g : all) {
    const std::string& id = g.row.id;
    if (!isValidDeploymentId(id) || !seen.insert(id).second) continue;
    auto& slot = deployments_[id];
    if (!slot) slot = std::make_unique<DeploymentSeries>();
    DeploymentSeries& s = *slot;
    const prometheus::Labels labels{{"deployment", id}};
    // Resource series only while the container runs: a stopped or crashed deployment's last
    // sample would be shown as if it were current.
    if (g.hasSample && runs(g.row.status)) {
      // A new run (or container) counts CPU time from zero again: a counter reset, which
      // Prometheus' rate() expects as a fresh series value.
      if (s.cpuSeconds != nullptr && g.cpuSecondsTotal < s.cpuSeconds->Value()) {
        dropSeries(f.cpuSeconds, s.cpuSeconds);
      }
      setCounter(ensure(f.cpuSeconds, s.cpuSeconds, labels), g.cpuSecondsTotal);
      ensure(f.cpuPercent, s.cpuPercent, labels).Set(g.cpuPct);
      ensure(f.memUsed, s.memUsed, labels).Set(g.memUsedBytes);
      ensure(f.memLimit, s.memLimit, labels).Set(g.memLimitBytes);
    } else {
      dropSeries(f.cpuSeconds, s.cpuSeconds);
      dropSeries(f.cpuPercent, s.cpuPercent);
      dropSeries(f.memUsed, s.memUsed);
      dropSeries(f.memLimit, s.memLimit);
    }
    for (size_t i = 0; i < kStatuses.size(); ++i) {
      prometheus::Labels l{{"deployment", id}, {"status", std::string(toString(kStatuses[i]))}};
      ensure(f.status, s.status[i], l).Set(g.row.status == kStatuses[i] ? 1 : 0);
    }
    const uint64_t perStream[] = {g.linesStdout, g.linesStderr, g.linesSystem};
    for (size_t i = 0; i < kStreams.size(); ++i) {
      prometheus::Labels l{{"deployment", id}, {"stream", std::string(toString(kStreams[i]))}};
      setCounter(ensure(f.logLines, s.lines[i], l), static_cast<double>(perStream[i]));
    }
    setCounter(ensure(f.crashes, s.crashes, labels), static_cast<double>(g.crashes));
    ensure(f.healthFailures, s.healthFailures, labels).Set(g.consecutiveHealthFailures);
    if (g.row.lastExitCode) {
      ensure(f.lastExitCode, s.lastExitCode, labels).Set(*g.row.lastExitCode);
    } else {
      dropSeries(f.lastExitCode, s.lastExitCode);
    }
    prometheus::Labels info{{"deployment", id},
                            {"name", infoValue(g.row.name)},
                            {"slug", infoValue(g.row.slug)},
                            {"kind", infoValue(g.row.entityType)},
                            {"host", infoValue(g.row.host.empty() ? c.hostId : g.row.host)}};
    if (s.info != nullptr && s.infoLabels != info) dropSeries(f.deploymentInfo, s.info);
    if (s.info == nullptr) s.infoLabels = info;
    ensure(f.deploymentInfo, s.info, info).Set(1);
  }
  for (auto it = deployments_.begin(); it != deployments_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    DeploymentSeries& s = *it->second;
    dropSeries(f.cpuSeconds, s.cpuSeconds);
    dropSeries(f.cpuPercent, s.cpuPercent);
    dropSeries(f.memUsed, s.memUsed);
    dropSeries(f.memLimit, s.memLimit);
    for (auto*& g : s.status) dropSeries(f.status, g);
    for (auto*& c : s.lines) dropSeries(f.logLines, c);
    dropSeries(f.crashes, s.crashes);
    dropSeries(f.healthFailures, s.healthFailures);
    dropSeries(f.lastExitCode, s.lastExitCode);
    dropSeries(f.deploymentInfo, s.info);
    it = deployments_.erase(it);
  }

  setCounter(f.linesIngested.Add({}), static_cast<double>(c.linesIngested));
  setCounter(f.bytesIngested.Add({}), static_cast<double>(c.bytesIngested));
  setCounter(f.batchesCommitted.Add({}), static_cast<double>(c.batchesCommitted));
  setCounter(f.commitFailures.Add({}), static_cast<double>(c.commitFailures));
  setCounter(f.engineConnects.Add({}), static_cast<double>(c.engineConnects));
  setCounter(f.engineDisconnects.Add({}), static_cast<double>(c.engineDisconnects));
  setCounter(f.logGaps.Add({}), static_cast<double>(c.logGaps));
  setCounter(f.quotaDroppedLines.Add({}), static_cast<double>(c.quotaDroppedLines));
  setCounter(f.retentionRuns.Add({}), static_cast<double>(c.retentionRuns));
  setCounter(f.retentionLogLines.Add({}), static_cast<double>(c.retentionDeletedLogLines));
  setCounter(f.retentionSystemLines.Add({}), static_cast<double>(c.retentionDeletedSystemLines));
  setCounter(f.retentionSamples.Add({}), static_cast<double>(c.retentionDeletedMetricSamples));
  f.ingestLag.Add({}).Set(c.ingestLagSeconds);
  f.storageBytes.Add({}).Set(static_cast<double>(c.storageBytes));
  if (c.dataDirSizeBytes > 0) {
    f.dataDirFree.Add({}).Set(static_cast<double>(c.dataDirFreeBytes));
    f.dataDirSize.Add({}).Set(static_cast<double>(c.dataDirSizeBytes));
  }
  f.storageHealthy.Add({}).Set(c.storageHealthy ? 1 : 0);
  f.activeFollows.Add({}).Set(static_cast<double>(c.activeFollows));
  f.runtimeConnected.Add({}).Set(c.runtimeConnected ? 1 : 0);
  SseStats sse = hub_ ? hub_->stats() : SseStats{};
  f.sseClients.Add({}).Set(static_cast<double>(sse.clients));
  setCounter(f.sseOpened.Add({}), static_cast<double>(sse.opened));
  setCounter(f.sseRejected.Add({}), static_cast<double>(sse.rejected));
  setCounter(f.sseDropped.Add({{"reason", "slow"}}), static_cast<double>(sse.droppedSlow));
  setCounter(f.sseDropped.Add({{"reason", "stalled"}}), static_cast<double>(sse.droppedStalled));
  setCounter(f.sseEnded.Add({}), static_cast<double>(sse.ended));
  if (c.hasSink) {
    f.forwardLagLines.Add({}).Set(static_cast<double>(c.forwardLagLines));
    f.forwardLagSeconds.Add({}).Set(c.forwardLagSeconds);
  }
  f.info.Add({{"version", api_.version()}, {"host", c.hostId}}).Set(1);
  f.buildInfo.Add({{"version", buildVersion()}, {"revision", buildRevision()}}).Set(1);
  // Left at their last values when /proc cannot be read (logged once).
  Result<ProcessStats> p = readProcessStats();
  if (p.isOk()) {
    setCounter(f.processCpu.Add({}), p->cpuSeconds);
    f.processRss.Add({}).Set(p->residentBytes);
    f.processOpenFds.Add({}).Set(p->openFds);
    f.processMaxFds.Add({}).Set(p->maxFds);
    f.processThreads.Add({}).Set(p->threads);
    f.processStart.Add({}).Set(p->startTimeSeconds);
  } else if (!processStatsFailed_) {
    processStatsFailed_ = true;
    spdlog::warn("/metrics: process figures: {}", p.status().message());
  }
}

std::string PrometheusExporter::scrape() {
  std::lock_guard lock(mu_);
  refresh();
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

Handler metricsHandler(PrometheusExporter& exporter) {
  return [&exporter](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp,
                     const PathParams&) {
    try {
      std::string text = exporter.scrape();
      resp.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
      resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
      resp.set("Cache-Control", "no-store");
      resp.sendBuffer(text.data(), text.size());
    } catch (const std::exception& e) {
      spdlog::error("/metrics: {}", e.what());
      if (!resp.sent()) sendError(resp, 500, "internal", "the scrape failed inside the collector");
    }
  };
}

}  // namespace zc::exporters
