#include "ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <vector>

namespace zc::collector {

using namespace std::chrono_literals;

std::string gapLine(const plugin::LogGap& gap) {
  std::string count = gap.lines ? std::to_string(*gap.lines) + " lines" : "count unknown";
  // after == 0: nothing of the log was stored before the gap (its start is missing).
  const std::string span = gap.after == 0 ? " lines before " + formatRfc3339Nano(gap.before)
                                          : " lines between " + formatRfc3339Nano(gap.after) +
                                                " and " + formatRfc3339Nano(gap.before);
  return "[GAP] the engine no longer holds the " +
         std::string(gap.stream == LogStream::kStderr ? "stderr" : "stdout") + span + " (" +
         count + ")";
}

Ingest::Ingest(PipelineCounters& counters, Clock& clock, RetryBackoff retry)
    : counters_(counters), clock_(clock), retry_(retry) {}

std::unique_ptr<FollowConsumer> Ingest::consumer(std::shared_ptr<Sequencer> seq,
                                                 std::string containerId,
                                                 FollowConsumer::EndedFn ended) {
  return std::make_unique<FollowConsumer>(*this, std::move(seq), std::move(containerId),
                                          std::move(ended));
}

void Ingest::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool Ingest::waitOrGiveUp(std::chrono::milliseconds delay, const bool& cancelled) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, delay, [&] { return stopping_ || cancelled; });
}

FollowConsumer::FollowConsumer(Ingest& ingest, std::shared_ptr<Sequencer> seq,
                               std::string containerId, EndedFn ended)
    : ingest_(ingest), seq_(std::move(seq)), containerId_(std::move(containerId)),
      ended_(std::move(ended)) {}

bool FollowConsumer::consume(plugin::LogChunk&& chunk) noexcept {
  try {
    return commitWithRetry(std::move(chunk));
  } catch (const std::exception& e) {  // bad_alloc: the chunk's cursor is not stored, so the
    spdlog::error("deployment {}: dropping a chunk to be re-read: {}", seq_->deploymentId(),
                  e.what());  // follow ends and is resumed from the stored cursor
    return false;
  }
}

void FollowConsumer::ended(Status why) noexcept {
  try {
    if (ended_) ended_(std::move(why));
  } catch (const std::exception& e) {
    spdlog::error("deployment {}: follow end lost: {}", seq_->deploymentId(), e.what());
  }
}

void FollowConsumer::cancel() noexcept {
  {
    std::lock_guard lock(ingest_.mu_);
    cancelled_ = true;
  }
  ingest_.cv_.notify_all();
}

bool FollowConsumer::commitWithRetry(plugin::LogChunk&& chunk) {
  std::vector<LogLine> lines;
  lines.reserve(chunk.lines.size() + 1);
  if (chunk.gap) {
    LogLine& g = lines.emplace_back();
    g.stream = LogStream::kSystem;
    g.ts = ingest_.clock_.now();
    g.text = gapLine(*chunk.gap);
    spdlog::warn("deployment {}: {}", seq_->deploymentId(), g.text);
  }
  uint64_t bytes = 0;
  TimeNs newest = 0;
  for (plugin::RawLine& r : chunk.lines) {
    LogLine& l = lines.emplace_back();
    l.stream = r.stream;
    l.ts = r.ts;
    l.truncated = r.truncated;
    bytes += r.text.size();
    newest = std::max(newest, r.ts);
    l.text = std::move(r.text);
  }
  const size_t count = lines.size() - (chunk.gap ? 1 : 0);  // the engine's lines
  std::optional<plugin::LogCursor> cursor(plugin::LogCursor{containerId_, std::move(chunk.cursor)});
  PipelineCounters& c = ingest_.counters_;
  RetryBackoff backoff = ingest_.retry_;
  auto lastReport = std::chrono::steady_clock::time_point{};
  for (;;) {
    // On failure the sequencer leaves `lines` as they were: the same chunk is tried again.
    Status s = seq_->commit(lines, cursor);
    if (s.isOk()) {
      c.linesIngested.fetch_add(count, std::memory_order_relaxed);
      c.bytesIngested.fetch_add(bytes, std::memory_order_relaxed);
      c.batchesCommitted.fetch_add(1, std::memory_order_relaxed);
      if (chunk.gap) c.logGaps.fetch_add(1, std::memory_order_relaxed);
      if (newest != 0) {
        c.lastIngestLagNs.store(ingest_.clock_.now() - newest, std::memory_order_relaxed);
        if (newest > committedTs_.load()) committedTs_.store(newest);
      }
      lastCommit_.store(std::chrono::steady_clock::now());
      return true;
    }
    c.commitFailures.fetch_add(1, std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now();
    if (now - lastReport > 30s) {
      spdlog::warn("deployment {}: cannot store {} lines, holding the follow and retrying: {}",
                   seq_->deploymentId(), count, s.toString());
      lastReport = now;
    }
    if (ingest_.waitOrGiveUp(backoff.next(), cancelled_)) return false;
  }
}

}  // namespace zc::collector
