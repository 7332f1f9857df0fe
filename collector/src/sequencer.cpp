#include "sequencer.h"

namespace zc::collector {

Sequencer::Sequencer(std::string deploymentId, plugin::Storage& storage, host::LiveBus& bus,
                     Clock& clock)
    : deploymentId_(std::move(deploymentId)), storage_(storage), bus_(bus), clock_(clock) {}

Status Sequencer::load() {
  auto next = storage_.nextLineNo(deploymentId_);
  if (!next.isOk()) return next.status();
  std::lock_guard lock(mu_);
  next_ = next.value();
  return Status::ok();
}

Status Sequencer::commit(std::vector<LogLine>& lines, const std::optional<plugin::LogCursor>& cursor) {
  std::lock_guard lock(mu_);
  if (next_ == 0) return Status::failedPrecondition("sequencer of '" + deploymentId_ + "' not loaded");
  plugin::LogBatch batch;
  batch.deploymentId = deploymentId_;
  uint64_t n = next_;
  for (LogLine& l : lines) {
    l.deploymentId = deploymentId_;
    l.lineNo = n++;
  }
  batch.lines.swap(lines);
  batch.cursor = cursor;
  Status s = storage_.appendLogs(batch);
  if (s.code() == Status::Code::kFailedPrecondition) {
    // Our next lineNo disagrees with storage: a write reported as failed was in fact stored
    // (then storage holds this very batch: its cursor says so, and it must not be stored
    // twice), or the store was changed under us (renumber from storage and try once more).
    auto stored = storage_.nextLineNo(deploymentId_);
    if (stored.isOk() && stored.value() != next_) {
      auto storedCursor = cursor ? storage_.getCursor(deploymentId_, cursor->key)
                                 : Result<std::string>(Status::notFound("no cursor"));
      if (cursor && storedCursor.isOk() && storedCursor.value() == cursor->value &&
          stored.value() == n) {
        next_ = n;
        s = Status::ok();  // already stored: publish it below as if just written
      } else {
        next_ = stored.value();
        n = next_;
        for (LogLine& l : batch.lines) l.lineNo = n++;
        s = storage_.appendLogs(batch);
      }
    }
  }
  if (!s.isOk()) {
    lines.swap(batch.lines);
    return s;
  }
  next_ = n;
  for (const LogLine& l : batch.lines) {
    committed_[static_cast<int>(l.stream) - 1].fetch_add(1, std::memory_order_relaxed);
  }
  if (!batch.lines.empty()) {
    auto published = std::make_shared<const std::vector<LogLine>>(std::move(batch.lines));
    bus_.publishLines(deploymentId_, published);
  }
  return Status::ok();
}

Status Sequencer::appendSystemLine(std::string text) {
  std::vector<LogLine> lines(1);
  lines[0].stream = LogStream::kSystem;
  lines[0].ts = clock_.now();
  lines[0].text = std::move(text);
  return commit(lines, std::nullopt);
}

uint64_t Sequencer::nextLineNo() const {
  std::lock_guard lock(mu_);
  return next_;
}

}  // namespace zc::collector
