// What the LiveBus delivers for one SSE stream, between the publisher threads (which push) and
// the hub thread (which pops). An inbox is bounded in lines and in text bytes: past
// maxPendingLines or maxPendingBytes it drops what it holds and reports overflow, and the hub closes the stream (the client resumes from storage
// with Last-Event-ID). The subscriber tells the hub once per batch of work (`scheduled`), not
// once per item.
//
// Thread-safety: Inbox methods lock its mutex; callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "zc/host/live_bus.h"
#include "zc/model.h"

namespace zc::exporters {

enum class InboxItemKind : uint8_t { kLines, kStatus, kEnd };

struct InboxItem {
  InboxItemKind kind = InboxItemKind::kLines;
  host::LineBatch batch;
  DeploymentStatus status = DeploymentStatus::kRunning;
  size_t bytes = 0;  // kLines: the text bytes of `batch` (set by Inbox::push)
};

class Inbox {
 public:
  Inbox(size_t maxPendingLines, size_t maxPendingBytes)
      : maxPendingLines_(maxPendingLines), maxPendingBytes_(maxPendingBytes) {}

  // Queues `item` (or overflows, dropping everything). True when the hub is to be told.
  bool push(InboxItem item) noexcept;
  // Marks the inbox overflowed (out of memory while pushing). The hub is to be told.
  void fail() noexcept;
  enum class Pop { kItem, kEmpty, kOverflow };
  // The next item; kEmpty also clears `scheduled` (the next push tells the hub again).
  Pop pop(InboxItem& out);
  bool overflowed();

 private:
  const size_t maxPendingLines_;
  const size_t maxPendingBytes_;
  std::mutex mu_;
  std::vector<InboxItem> items_;  // consumed from head_
  size_t head_ = 0;
  size_t pendingLines_ = 0;
  size_t pendingBytes_ = 0;
  bool overflow_ = false;
  bool scheduled_ = false;  // the hub has been told and has not yet found the inbox empty
};

// Told which stream has work; implemented by the hub.
class StreamScheduler {
 public:
  virtual ~StreamScheduler() = default;
  virtual void schedule(uint64_t token) noexcept = 0;
};

// The bus subscriber of one stream: fills its inbox and tells the scheduler.
class InboxSubscriber final : public host::LiveSubscriber {
 public:
  InboxSubscriber(StreamScheduler& scheduler, uint64_t token, std::shared_ptr<Inbox> inbox)
      : scheduler_(scheduler), token_(token), inbox_(std::move(inbox)) {}
  void onLines(const host::LineBatch& batch) noexcept override;
  void onStatus(DeploymentStatus status) noexcept override;
  void onEnd() noexcept override;

 private:
  void push(InboxItem item) noexcept;
  StreamScheduler& scheduler_;
  uint64_t token_;
  std::shared_ptr<Inbox> inbox_;
};

}  // namespace zc::exporters
