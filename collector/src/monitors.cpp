#include "monitors.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace zc::collector {

HealthProber::HealthProber(DeploymentManager& manager, HealthOptions options)
    : manager_(manager), options_(options), pool_("health", options.parallelism),
      task_("health", options.interval, [this] { runOnce(); }) {}

void HealthProber::stop() noexcept {
  task_.stop();
  pool_.stop();
}

bool HealthProber::probe(int port, std::chrono::milliseconds timeout) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Timespan t(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    session.setTimeout(t, t, t);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, "/health",
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setKeepAlive(false);
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    // The status line decides; the body is never read (an endless or slow body must not hold
    // the probe), and the connection is closed with the session.
    session.receiveResponse(resp);
    return resp.getStatus() >= 200 && resp.getStatus() < 300;
  } catch (const Poco::Exception&) {
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

void HealthProber::runOnce() {
  std::vector<std::pair<std::string, int>> targets;
  if (!manager_.rowsReconciled()) return;  // a row may name a container that is gone
  for (const Deployment& d : manager_.list()) {
    if (isLive(d) && d.hostPort) targets.emplace_back(d.id, *d.hostPort);
  }
  pool_.forEach(targets.size(), [&](size_t i) {
    bool ok = probe(targets[i].second, options_.timeout);
    manager_.recordHealthResult(targets[i].first, ok);
  });
}

MetricsSampler::MetricsSampler(DeploymentManager& manager, plugin::Runtime& runtime,
                               plugin::Storage& storage, SamplerOptions options)
    : manager_(manager), runtime_(runtime), storage_(storage), options_(options),
      task_("metrics", options.interval, [this] { runOnce(); }) {}

void MetricsSampler::stop() noexcept {
  task_.stop();
}

MetricsSampler::Sweep MetricsSampler::lastSweep() const {
  std::lock_guard<std::mutex> lock(sweepMu_);
  return lastSweep_;
}

void MetricsSampler::runOnce() {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Deployment> targets;
  if (manager_.rowsReconciled()) {  // before, a row may name a container that is gone
    for (Deployment& d : manager_.list()) {
      if (isLive(d)) targets.push_back(std::move(d));
    }
  }
  std::vector<std::string> ids;
  ids.reserve(targets.size());
  for (const Deployment& d : targets) ids.push_back(d.containerId);
  auto results = runtime_.sampleResourcesBatch(ids, options_.maxInFlight);
  std::vector<MetricSample> batch;
  for (size_t i = 0; i < targets.size() && i < results.size(); ++i) {
    const auto& r = results[i];
    if (!r.isOk()) {
      spdlog::debug("deployment {}: no resource sample: {}", targets[i].id, r.status().toString());
      continue;
    }
    manager_.recordSample(targets[i].id, r.value());
    MetricSample s;
    s.deploymentId = targets[i].id;
    s.sampledAt = r->sampledAt;
    s.cpuPct = r->cpuPct;
    s.memUsedMb = r->memUsedBytes / (1024.0 * 1024.0);
    s.memLimitMb = r->memLimitBytes / (1024.0 * 1024.0);
    batch.push_back(std::move(s));
  }
  size_t stored = 0;
  if (!batch.empty()) {
    Status st = storage_.appendMetrics(batch);
    if (st.isOk()) {
      stored = batch.size();
      stored_.fetch_add(stored);
    } else {
      spdlog::error("storing {} metric samples: {}", batch.size(), st.toString());
    }
  }
  std::lock_guard<std::mutex> lock(sweepMu_);
  ++lastSweep_.count;
  lastSweep_.targets = targets.size();
  lastSweep_.stored = stored;
  lastSweep_.durationMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

}  // namespace zc::collector
