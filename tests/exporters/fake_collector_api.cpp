#include "fake_collector_api.h"

#include <algorithm>
#include <stdexcept>

#include "memory_storage.h"

namespace zc::testing {

FakeCollectorApi::FakeCollectorApi() {
  plugin::PluginContext ctx;
  ctx.logger = &logger_;
  ctx.clock = &systemClock();
  storage_ = std::make_unique<storage::MemoryStorage>();
  if (!storage_->configure(ctx).isOk() || !storage_->open().isOk()) {
    throw std::runtime_error("memory storage did not open");
  }
}

FakeCollectorApi::~FakeCollectorApi() {
  (void)storage_->close();
}

void FakeCollectorApi::putDeployment(const Deployment& d) {
  if (!storage_->putDeployment(d).isOk()) throw std::runtime_error("putDeployment failed");
}

void FakeCollectorApi::addDeployment(const std::string& id, TimeNs createdAt) {
  Deployment d;
  d.id = id;
  d.createdAt = createdAt != 0 ? createdAt : systemClock().now();
  putDeployment(d);
}

std::vector<LogLine> FakeCollectorApi::appendLines(const std::string& id,
                                                   const std::vector<std::string>& texts,
                                                   LogStream stream) {
  return appendGenerated(
      id, texts.size(), [&](size_t i, uint64_t) { return texts[i]; }, stream);
}

std::vector<LogLine> FakeCollectorApi::appendGenerated(
    const std::string& id, size_t n, const std::function<std::string(size_t, uint64_t)>& text,
    LogStream stream) {
  std::mutex* seq;
  {
    std::lock_guard lock(mu_);
    auto& m = sequencers_[id];
    if (!m) m = std::make_unique<std::mutex>();
    seq = m.get();
  }
  std::lock_guard lock(*seq);
  auto next = storage_->nextLineNo(id);
  if (!next.isOk()) throw std::runtime_error("nextLineNo: " + next.status().toString());
  plugin::LogBatch batch;
  batch.deploymentId = id;
  TimeNs now = systemClock().now();
  for (size_t i = 0; i < n; ++i) {
    batch.lines.push_back(LogLine{id, *next + i, stream, now, text(i, *next + i), false});
  }
  Status st = storage_->appendLogs(batch);
  if (!st.isOk()) throw std::runtime_error("appendLogs: " + st.toString());
  auto shared = std::make_shared<const std::vector<LogLine>>(batch.lines);
  bus_.publishLines(id, shared);  // after the commit, as the pipeline does
  return batch.lines;
}

std::vector<LogLine> FakeCollectorApi::appendNumbered(const std::string& id, size_t n) {
  return appendGenerated(id, n, [](size_t, uint64_t no) { return "line " + std::to_string(no); });
}

void FakeCollectorApi::appendSamples(const std::vector<MetricSample>& samples) {
  if (!storage_->appendMetrics(samples).isOk()) throw std::runtime_error("appendMetrics failed");
}

void FakeCollectorApi::setStatus(const std::string& id, DeploymentStatus status) {
  auto d = storage_->getDeployment(id);
  if (!d.isOk()) throw std::runtime_error("setStatus: unknown " + id);
  d->status = status;
  putDeployment(*d);
  bus_.publishStatus(id, status);
}

void FakeCollectorApi::completeTeardown(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    teardown_[id] = true;
  }
  bus_.publishEnd(id);
}

void FakeCollectorApi::setReadHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  readHook_ = std::move(hook);
}

void FakeCollectorApi::setDeploymentGauges(std::vector<host::DeploymentGauges> gauges) {
  std::lock_guard lock(mu_);
  gauges_ = std::move(gauges);
}

void FakeCollectorApi::setCollectorGauges(const host::CollectorGauges& gauges) {
  std::lock_guard lock(mu_);
  collector_ = gauges;
}

std::vector<Deployment> FakeCollectorApi::listDeployments() {
  auto all = storage_->listDeployments();
  if (!all.isOk()) return {};
  std::vector<Deployment> v = std::move(all).value();
  std::sort(v.begin(), v.end(), [](const Deployment& a, const Deployment& b) {
    return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.id < b.id;
  });
  return v;
}

Result<Deployment> FakeCollectorApi::getDeployment(const std::string& id) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  return storage_->getDeployment(id);
}

Result<plugin::LogPage> FakeCollectorApi::readLogs(const std::string& id, uint64_t since,
                                                   plugin::LogReadLimit limit) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  readLogsCalls_.fetch_add(1);
  std::function<void()> hook;
  {
    std::lock_guard lock(mu_);
    hook = readHook_;
  }
  if (hook) hook();
  if (!storage_->getDeployment(id).isOk()) return Status::notFound("unknown deployment " + id);
  return storage_->readLogs(id, since, limit);
}

Result<std::vector<MetricSample>> FakeCollectorApi::readMetrics(const std::string& id, TimeNs from,
                                                                TimeNs to) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  if (!storage_->getDeployment(id).isOk()) return Status::notFound("unknown deployment " + id);
  return storage_->readMetrics(id, from, to);
}

Result<Deployment> FakeCollectorApi::requestStop(const std::string& id,
                                                 const host::StopRequester& by) {
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  {
    std::lock_guard lock(stopsMu_);
    stops_.push_back(by);
  }
  auto d = storage_->getDeployment(id);
  if (!d.isOk()) return d.status();
  if (d->status != DeploymentStatus::kStopped) setStatus(id, DeploymentStatus::kStopped);
  return storage_->getDeployment(id);
}

bool FakeCollectorApi::teardownComplete(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = teardown_.find(id);
  return it != teardown_.end() && it->second;
}

std::vector<host::DeploymentGauges> FakeCollectorApi::deploymentGauges() {
  {
    std::lock_guard lock(mu_);
    if (gauges_) return *gauges_;
  }
  std::vector<host::DeploymentGauges> out;
  for (const auto& d : listDeployments()) {
    host::DeploymentGauges g;
    g.row = d;
    out.push_back(g);
  }
  return out;
}

host::CollectorGauges FakeCollectorApi::collectorGauges() {
  std::lock_guard lock(mu_);
  return collector_;
}

void FakeCollectorApi::setHealth(const host::CollectorHealth& health) {
  std::lock_guard lock(mu_);
  health_ = health;
}

host::CollectorHealth FakeCollectorApi::health() {
  {
    std::lock_guard lock(mu_);
    if (health_) return *health_;
  }
  host::CollectorHealth h;
  h.storagePlugin = "memory";
  h.runtimePlugin = "none";
  h.deployments = listDeployments().size();
  return h;
}

}  // namespace zc::testing
