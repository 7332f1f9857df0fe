#include "central_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>

#include "zc/clock.h"

namespace zc::collector {
namespace {

constexpr size_t kFeedReadLines = 5000;  // lines one feed read publishes at most
constexpr int kMaxReads = 20;             // reads of one deployment per wake-up

}  // namespace

bool hasChangeFeed(plugin::Storage& storage) {
  auto r = storage.waitForChanges(0);
  return r.isOk() || r.status().code() != Status::Code::kFailedPrecondition;
}

CentralApi::CentralApi(plugin::Storage& storage, host::LiveBus& bus, const RetentionJob* retention,
                       Identity identity)
    : storage_(storage), bus_(bus), retention_(retention), identity_(std::move(identity)) {}

std::vector<Deployment> CentralApi::listDeployments() {
  auto all = storage_.listDeployments();
  if (!all.isOk()) {
    spdlog::warn("central: listing deployments: {}", all.status().toString());
    return {};
  }
  std::stable_sort(all->begin(), all->end(), [](const Deployment& a, const Deployment& b) {
    return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id < b.id;
  });
  return std::move(all).value();
}

Result<Deployment> CentralApi::getDeployment(const std::string& id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  return storage_.getDeployment(id);
}

Result<plugin::LogPage> CentralApi::readLogs(const std::string& id, uint64_t since,
                                             plugin::LogReadLimit limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  // One statement for a page with lines: the sinks store a deployment's row in the transaction
  // of its first lines and remove both together, so lines mean the row is there. Only an empty
  // page asks for the row, to answer NotFound for an unknown deployment.
  ZC_ASSIGN_OR_RETURN(plugin::LogPage page, storage_.readLogs(id, since, limit));
  if (page.lines.empty()) ZC_RETURN_IF_ERROR(storage_.getDeployment(id).status());
  return page;
}

Result<std::vector<MetricSample>> CentralApi::readMetrics(const std::string& id, TimeNs from,
                                                          TimeNs to) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  ZC_RETURN_IF_ERROR(storage_.getDeployment(id).status());
  return storage_.readMetrics(id, from, to);
}

Result<Deployment> CentralApi::requestStop(const std::string& id, const host::StopRequester& by) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  ZC_ASSIGN_OR_RETURN(Deployment row, storage_.getDeployment(id));
  if (row.status == DeploymentStatus::kStopped) return row;
  row.status = DeploymentStatus::kStopped;
  ZC_RETURN_IF_ERROR(storage_.putDeployment(row));
  spdlog::info("deployment {}: stop recorded for host '{}' (requested by {}{}{})", id, row.host,
               by.tokenName.empty() ? "anonymous" : by.tokenName, by.address.empty() ? "" : " from ",
               by.address);
  bus_.publishStatus(id, DeploymentStatus::kStopped);
  return row;
}

bool CentralApi::teardownComplete(const std::string& id) {
  if (!isValidDeploymentId(id)) return false;
  auto row = storage_.getDeployment(id);
  return row.isOk() && row->status == DeploymentStatus::kStopped && row->containerId.empty();
}

std::vector<host::DeploymentGauges> CentralApi::deploymentGauges() {
  std::vector<host::DeploymentGauges> out;
  for (Deployment& d : listDeployments()) {
    host::DeploymentGauges g;
    g.row = std::move(d);
    out.push_back(std::move(g));
  }
  return out;
}

host::CollectorGauges CentralApi::collectorGauges() {
  host::CollectorGauges g;
  g.hostId = identity_.hostId;
  if (retention_) {
    const RetentionCounters& r = retention_->counters();
    g.retentionRuns = r.runs.load();
    g.retentionDeletedLogLines = r.logLinesDeleted.load();
    g.retentionDeletedSystemLines = r.systemLinesDeleted.load();
    g.retentionDeletedMetricSamples = r.metricSamplesDeleted.load();
  }
  plugin::StorageStats st = storage_.stats();
  g.storageBytes = st.bytesOnDisk;
  g.storageHealthy = st.healthy;
  return g;
}

host::CollectorHealth CentralApi::health() {
  host::CollectorHealth h;
  h.hostId = identity_.hostId;
  h.advertiseUrl = identity_.advertiseUrl;
  plugin::StorageStats st = storage_.stats();
  h.storagePlugin = identity_.storagePlugin;
  h.storageOk = st.healthy;
  h.storageDetail = st.detail;
  h.runtimePlugin = "none";
  // Ready at once (/readyz): this object exists only while storage is open (made after the
  // storage subsystem opened it, served until HTTP stops, before it closes), and without a
  // runtime there is no discovery to wait for.
  h.storageOpen = true;
  h.discoveryDone = true;
  auto all = storage_.listDeployments();
  h.deployments = all.isOk() ? all->size() : 0;
  return h;
}

std::string CentralApi::version() { return ZC_VERSION; }

Result<std::vector<plugin::HostRecord>> CentralApi::liveHosts() {
  // A host's sink says it is alive about every second while connected.
  constexpr TimeNs kAliveWithin = 30 * kNanosPerSecond;
  ZC_ASSIGN_OR_RETURN(std::vector<plugin::HostRecord> all, storage_.listHosts());
  const TimeNs now = systemClock().now();
  std::vector<plugin::HostRecord> out;
  for (auto& h : all) {
    if (!h.advertiseUrl.empty() && now - h.lastSeenAt <= kAliveWithin) out.push_back(std::move(h));
  }
  return out;
}

CentralFeed::CentralFeed(plugin::Storage& storage, host::LiveBus& bus)
    : storage_(storage), bus_(bus) {}

CentralFeed::~CentralFeed() { stop(); }

void CentralFeed::start() {
  auto all = storage_.listDeployments();
  if (all.isOk()) {
    for (const Deployment& d : *all) {
      auto next = storage_.nextLineNo(d.id);
      Known k;
      k.lastPublished = next.isOk() ? *next - 1 : 0;
      k.status = d.status;
      known_[d.id] = k;
    }
  }
  thread_ = std::thread([this] { run(); });
}

void CentralFeed::stop() noexcept {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void CentralFeed::run() {
  bool lost = false;
  while (!stop_.load()) {
    auto changed = storage_.waitForChanges(250);
    if (!changed.isOk()) {
      if (!lost) spdlog::warn("central: change feed lost: {}", changed.status().toString());
      lost = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (lost) {
      spdlog::info("central: change feed back; re-reading every deployment");
      lost = false;
      catchUpAll();
    }
    for (const std::string& id : *changed) publish(id);
  }
}

void CentralFeed::catchUpAll() {
  auto all = storage_.listDeployments();
  if (!all.isOk()) return;
  for (const Deployment& d : *all) publish(d.id);
}

void CentralFeed::publish(const std::string& id) {
  auto row = storage_.getDeployment(id);
  if (!row.isOk()) return;
  auto [it, isNew] = known_.try_emplace(id);
  Known& k = it->second;
  if (isNew) k.status = row->status;
  if (row->status != k.status) {
    k.status = row->status;
    bus_.publishStatus(id, row->status);
  }
  for (int i = 0; i < kMaxReads && !stop_.load(); ++i) {
    auto page = storage_.readLogs(id, k.lastPublished, kFeedReadLines);
    if (!page.isOk() || page->lines.empty()) break;
    k.lastPublished = page->lines.back().lineNo;
    auto batch = std::make_shared<const std::vector<LogLine>>(std::move(page->lines));
    bus_.publishLines(id, batch);
    if (batch->size() < kFeedReadLines) break;
  }
  const bool ended = row->status == DeploymentStatus::kStopped && row->containerId.empty();
  if (ended && !k.ended) bus_.publishEnd(id);
  k.ended = ended;
}

}  // namespace zc::collector
