#include "monitors.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <spdlog/spdlog.h>

#include <vector>

namespace zc::collector {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> pass)
    : name_(std::move(name)), interval_(interval), pass_(std::move(pass)) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
  thread_ = std::thread([this] {
    for (;;) {
      try {
        pass_();
      } catch (const std::exception& e) {
        spdlog::error("{}: pass failed: {}", name_, e.what());
      }
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, interval_, [&] { return stopping_; })) return;
    }
  });
}

void PeriodicTask::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void forEachBounded(size_t n, size_t parallelism, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::min(n, parallelism); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
}

HealthProber::HealthProber(DeploymentManager& manager, HealthOptions options)
    : manager_(manager), options_(options),
      task_("health", options.interval, [this] { runOnce(); }) {}

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
  for (const Deployment& d : manager_.list()) {
    bool live = d.status == DeploymentStatus::kRunning || d.status == DeploymentStatus::kUnhealthy;
    if (live && d.hostPort && !d.containerId.empty()) targets.emplace_back(d.id, *d.hostPort);
  }
  forEachBounded(targets.size(), options_.parallelism, [&](size_t i) {
    bool ok = probe(targets[i].second, options_.timeout);
    manager_.recordHealthResult(targets[i].first, ok);
  });
}

MetricsSampler::MetricsSampler(DeploymentManager& manager, plugin::Runtime& runtime,
                               plugin::Storage& storage, SamplerOptions options)
    : manager_(manager), runtime_(runtime), storage_(storage), options_(options),
      task_("metrics", options.interval, [this] { runOnce(); }) {}

MetricsSampler::Sweep MetricsSampler::lastSweep() const {
  std::lock_guard<std::mutex> lock(sweepMu_);
  return lastSweep_;
}

void MetricsSampler::runOnce() {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Deployment> targets;
  for (Deployment& d : manager_.list()) {
    bool live = d.status == DeploymentStatus::kRunning || d.status == DeploymentStatus::kUnhealthy;
    if (live && !d.containerId.empty()) targets.push_back(std::move(d));
  }
  std::vector<std::optional<MetricSample>> samples(targets.size());
  forEachBounded(targets.size(), options_.parallelism, [&](size_t i) {
    auto r = runtime_.sampleResources(targets[i].containerId);
    if (!r.isOk()) {
      spdlog::debug("deployment {}: no resource sample: {}", targets[i].id, r.status().toString());
      return;
    }
    manager_.recordSample(targets[i].id, r.value());
    MetricSample s;
    s.deploymentId = targets[i].id;
    s.sampledAt = r->sampledAt;
    s.cpuPct = r->cpuPct;
    s.memUsedMb = r->memUsedBytes / (1024.0 * 1024.0);
    s.memLimitMb = r->memLimitBytes / (1024.0 * 1024.0);
    samples[i] = s;
  });
  std::vector<MetricSample> batch;
  for (auto& s : samples) {
    if (s) batch.push_back(std::move(*s));
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
