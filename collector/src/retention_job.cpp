#include "retention_job.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace zc::collector {

RetentionJob::RetentionJob(plugin::Storage& storage, int64_t intervalNs)
    : storage_(storage), intervalNs_(intervalNs) {}

RetentionJob::~RetentionJob() { stop(); }

void RetentionJob::start() {
  thread_ = std::thread([this] { loop(); });
}

void RetentionJob::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<plugin::RetentionReport> RetentionJob::runOnce() {
  auto report = storage_.applyRetention();
  counters_.runs.fetch_add(1);
  if (!report.isOk()) {
    counters_.failures.fetch_add(1);
    return report;
  }
  counters_.logLinesDeleted.fetch_add(report->logLinesDeleted);
  counters_.systemLinesDeleted.fetch_add(report->systemLinesDeleted);
  counters_.metricSamplesDeleted.fetch_add(report->metricSamplesDeleted);
  return report;
}

void RetentionJob::loop() {
  for (;;) {
    auto report = runOnce();
    if (report.isOk()) {
      spdlog::info("retention: deleted {} log lines, {} system lines, {} metric samples",
                   report->logLinesDeleted, report->systemLinesDeleted, report->metricSamplesDeleted);
    } else {
      spdlog::error("retention pass failed (next pass as scheduled): {}", report.status().toString());
    }
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::nanoseconds(intervalNs_), [&] { return stopping_; })) return;
  }
}

}  // namespace zc::collector
