#include "storage_quota.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <utility>
#include <vector>

namespace zc::collector {

namespace {

// Text read in one pass, all deployments together: a pass's memory is bounded whatever the
// lines' length.
constexpr size_t kScanBytes = 32u << 20;
constexpr size_t kMinScanLinesEach = 64;
constexpr size_t kMinScanBytesEach = 64u << 10;

// The head of one deployment's stdout/stderr lines, oldest first.
struct Head {
  std::string id;
  std::vector<LogLine> lines;
  size_t taken = 0;
  uint64_t forwardedThrough = std::numeric_limits<uint64_t>::max();  // no sink: all
};

std::string gapText(const Head& h, uint64_t unforwarded) {
  const LogLine& first = h.lines.front();
  const LogLine& last = h.lines[h.taken - 1];
  std::string text = "[GAP] storage quota: dropped " + std::to_string(h.taken) +
                     " stdout/stderr lines, lineNo " + std::to_string(first.lineNo) + "-" +
                     std::to_string(last.lineNo) + ", " + formatRfc3339Nano(first.ts) + " to " +
                     formatRfc3339Nano(last.ts);
  if (unforwarded > 0) {
    text += ", " + std::to_string(unforwarded) + " of them not yet forwarded to the sink";
  }
  return text;
}

}  // namespace

StorageQuota::StorageQuota(plugin::Storage& storage, SystemLineWriter systemLine,
                           ForwardedThrough forwardedThrough, QuotaOptions options)
    : storage_(storage),
      systemLine_(std::move(systemLine)),
      forwardedThrough_(std::move(forwardedThrough)),
      opts_(options),
      task_("storage-quota", options.interval, [this] { runScheduled(); }) {}

Result<QuotaPass> StorageQuota::runOnce() {
  counters_.passes.fetch_add(1, std::memory_order_relaxed);
  QuotaPass pass;
  ZC_ASSIGN_OR_RETURN(pass.usedBytes, storage_.usedBytes());
  if (opts_.maxBytes == 0 || pass.usedBytes <= opts_.maxBytes) return pass;
  const auto target = static_cast<uint64_t>(static_cast<double>(opts_.maxBytes) * opts_.lowWater);
  const uint64_t toFree = pass.usedBytes - std::min(target, pass.usedBytes);

  ZC_ASSIGN_OR_RETURN(std::vector<Deployment> rows, storage_.listDeployments());
  if (rows.empty()) return pass;
  const size_t linesEach = std::max(kMinScanLinesEach, opts_.scanLines / rows.size());
  const size_t bytesEach = std::max(kMinScanBytesEach, kScanBytes / rows.size());
  std::vector<Head> heads;
  heads.reserve(rows.size());
  for (const Deployment& row : rows) {
    auto page = storage_.readLogs(row.id, 0, plugin::LogReadLimit(linesEach, bytesEach));
    if (!page.isOk()) {
      spdlog::warn("storage quota: cannot read the log of '{}': {}", row.id,
                   page.status().toString());
      continue;
    }
    Head h;
    h.id = row.id;
    for (LogLine& line : page->lines) {
      if (line.stream != LogStream::kSystem) h.lines.push_back(std::move(line));
    }
    if (h.lines.empty()) continue;
    if (forwardedThrough_) h.forwardedThrough = forwardedThrough_(row.id);
    heads.push_back(std::move(h));
  }

  // The oldest lines across deployments first; each deployment gives up a prefix of its lines.
  auto pick = [&](bool allowUnforwarded) {
    using Entry = std::pair<TimeNs, size_t>;  // ts of the head's next line, head index
    std::priority_queue<Entry, std::vector<Entry>, std::greater<>> next;
    auto offer = [&](size_t i) {
      const Head& h = heads[i];
      if (h.taken < h.lines.size() &&
          (allowUnforwarded || h.lines[h.taken].lineNo <= h.forwardedThrough)) {
        next.emplace(h.lines[h.taken].ts, i);
      }
    };
    for (size_t i = 0; i < heads.size(); ++i) offer(i);
    uint64_t freed = 0;
    while (!next.empty() && freed < toFree) {
      size_t i = next.top().second;
      next.pop();
      freed += heads[i].lines[heads[i].taken].text.size() + opts_.lineOverheadBytes;
      ++heads[i].taken;
      offer(i);
    }
    return freed;
  };
  // Lines the sink has not acknowledged go only when no acknowledged one is left to drop.
  if (pick(false) == 0) pick(true);

  for (Head& h : heads) {
    if (h.taken == 0) continue;
    const uint64_t through = h.lines[h.taken - 1].lineNo;
    uint64_t unforwarded = 0;
    for (size_t i = 0; i < h.taken; ++i) {
      if (h.lines[i].lineNo > h.forwardedThrough) ++unforwarded;
    }
    Status st = storage_.dropLogLinesThrough(h.id, through);
    if (!st.isOk()) {
      counters_.failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("storage quota: dropping the oldest lines of '{}' failed: {}", h.id,
                    st.toString());
      continue;
    }
    pass.linesDropped += h.taken;
    pass.unforwardedLinesDropped += unforwarded;
    ++pass.deploymentsTrimmed;
    counters_.linesDropped.fetch_add(h.taken, std::memory_order_relaxed);
    counters_.unforwardedLinesDropped.fetch_add(unforwarded, std::memory_order_relaxed);
    std::string text = gapText(h, unforwarded);
    if (Status line = systemLine_(h.id, text); !line.isOk()) {
      spdlog::warn("storage quota: {} (the line could not be stored: {})", text, line.toString());
    }
  }
  return pass;
}

void StorageQuota::runScheduled() {
  auto pass = runOnce();
  if (!pass.isOk()) {
    counters_.failures.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("storage quota pass failed (next pass as scheduled): {}",
                  pass.status().toString());
    return;
  }
  if (pass->linesDropped > 0) {
    spdlog::warn("storage quota: {} bytes stored, over --max-storage-bytes {}: dropped {} oldest "
                 "stdout/stderr lines of {} deployments ({} not yet forwarded to the sink)",
                 pass->usedBytes, opts_.maxBytes, pass->linesDropped, pass->deploymentsTrimmed,
                 pass->unforwardedLinesDropped);
  }
}

}  // namespace zc::collector
