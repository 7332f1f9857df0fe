#include "retention_job.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace zc::collector {

RetentionJob::RetentionJob(plugin::Storage& storage, int64_t intervalNs)
    : storage_(storage),
      task_("retention", std::chrono::nanoseconds(intervalNs), [this] { runScheduled(); }) {}

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

void RetentionJob::runScheduled() {
  auto report = runOnce();
  if (report.isOk()) {
    spdlog::info("retention: deleted {} log lines, {} system lines, {} metric samples",
                 report->logLinesDeleted, report->systemLinesDeleted, report->metricSamplesDeleted);
  } else {
    spdlog::error("retention pass failed (next pass as scheduled): {}", report.status().toString());
  }
}

}  // namespace zc::collector
