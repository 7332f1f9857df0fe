#include "sse_inbox.h"

namespace zc::exporters {
namespace {

// The text bytes of `batch`. Every stream of a deployment is handed the same batch in a row on
// the publishing thread, so the sum is kept for the last batch seen on each thread.
size_t textBytesOf(const host::LineBatch& batch) noexcept {
  thread_local host::LineBatch last;
  thread_local size_t lastBytes = 0;
  if (batch != last) {
    size_t n = 0;
    for (const LogLine& l : *batch) n += l.text.size();
    last = batch;
    lastBytes = n;
  }
  return lastBytes;
}

}  // namespace

bool Inbox::push(InboxItem item) noexcept {
  size_t lines = item.kind == InboxItemKind::kLines ? item.batch->size() : 0;
  size_t bytes = lines > 0 ? textBytesOf(item.batch) : 0;
  item.bytes = bytes;
  try {
    std::lock_guard lock(mu_);
    if (overflow_) return false;
    bool wakeAnyway = false;
    if (lines > 0 && (pendingLines_ + lines > maxPendingLines_ ||
                      (pendingBytes_ > 0 && pendingBytes_ + bytes > maxPendingBytes_))) {
      // Too far behind: drop what is queued (memory) and have the hub disconnect it, even if it
      // is not reading the inbox.
      overflow_ = true;
      items_.clear();
      head_ = 0;
      pendingLines_ = 0;
      pendingBytes_ = 0;
      wakeAnyway = true;
    } else {
      items_.push_back(std::move(item));
      pendingLines_ += lines;
      pendingBytes_ += bytes;
    }
    bool wake = !scheduled_ || wakeAnyway;
    scheduled_ = true;
    return wake;
  } catch (const std::exception&) {
    // Out of memory: losing the stream is the only safe option; the client resumes.
    fail();
    return true;
  }
}

void Inbox::fail() noexcept {
  std::lock_guard lock(mu_);
  overflow_ = true;
}

Inbox::Pop Inbox::pop(InboxItem& out) {
  std::lock_guard lock(mu_);
  if (overflow_) return Pop::kOverflow;
  if (head_ == items_.size()) {
    items_.clear();
    head_ = 0;
    scheduled_ = false;
    if (items_.capacity() > 64) std::vector<InboxItem>().swap(items_);
    return Pop::kEmpty;
  }
  out = std::move(items_[head_++]);
  if (out.kind == InboxItemKind::kLines) {
    pendingLines_ -= out.batch->size();
    pendingBytes_ -= out.bytes;
  }
  return Pop::kItem;
}

bool Inbox::overflowed() {
  std::lock_guard lock(mu_);
  return overflow_;
}

void InboxSubscriber::onLines(const host::LineBatch& batch) noexcept {
  push(InboxItem{InboxItemKind::kLines, batch, DeploymentStatus::kRunning});
}

void InboxSubscriber::onStatus(DeploymentStatus status) noexcept {
  push(InboxItem{InboxItemKind::kStatus, nullptr, status});
}

void InboxSubscriber::onEnd() noexcept {
  push(InboxItem{InboxItemKind::kEnd, nullptr, DeploymentStatus::kStopped});
}

void InboxSubscriber::push(InboxItem item) noexcept {
  if (inbox_->push(std::move(item))) scheduler_.schedule(token_);
}

}  // namespace zc::exporters
