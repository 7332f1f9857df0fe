// Sequencer: the single source of lineNos for one deployment.
//
// Every line of a deployment (stdout, stderr and system) is numbered here and nowhere else, and
// is numbered and written under one lock, so numbers are contiguous and never handed out twice.
// A batch is stored in one atomic storage write together with the runtime's cursor, and only
// then published on the live bus. When the write fails nothing is consumed: the same numbers are
// used by the next attempt.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zc/clock.h"
#include "zc/host/live_bus.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

class Sequencer {
 public:
  // OWNERSHIP: storage, bus and clock must outlive the sequencer.
  Sequencer(std::string deploymentId, plugin::Storage& storage, host::LiveBus& bus, Clock& clock);

  // Reads the deployment's next lineNo from storage. Call once before commit().
  Status load();

  // Numbers `lines` (setting deploymentId and lineNo), stores them with `cursor` atomically and
  // publishes them. On success `lines` is moved into the published batch and left empty; on
  // failure it is left as it was (numbers may be set) and nothing is published.
  Status commit(std::vector<LogLine>& lines, const std::optional<plugin::LogCursor>& cursor);

  // Stores and publishes one system line, stamped with the clock.
  Status appendSystemLine(std::string text);

  uint64_t nextLineNo() const;
  const std::string& deploymentId() const { return deploymentId_; }
  // Lines committed by this process for `stream` (monotonic).
  uint64_t linesCommitted(LogStream stream) const noexcept {
    return committed_[static_cast<int>(stream) - 1].load(std::memory_order_relaxed);
  }

 private:
  const std::string deploymentId_;
  plugin::Storage& storage_;
  host::LiveBus& bus_;
  Clock& clock_;
  mutable std::mutex mu_;
  uint64_t next_ = 0;  // 0 until load()
  std::atomic<uint64_t> committed_[3] = {};
};

}  // namespace zc::collector
