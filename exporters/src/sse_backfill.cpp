#include "sse_backfill.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace zc::exporters {

bool backfillPage(host::CollectorApi& api, SseStream& s, size_t chunk) {
  auto page = api.readLogs(s.id, s.lastSent, plugin::LogReadLimit(chunk, kBackfillReadBytes));
  if (!page.isOk()) {
    if (page.status().isNotFound()) {
      // The deployment is gone: nothing more will come.
      s.catchingUp = false;
      s.endQueued = true;
      return true;
    }
    spdlog::warn("sse {}: backfill: {}", s.id, page.status().toString());
    return false;
  }
  uint64_t last = page->nextLineNo > 0 ? page->nextLineNo - 1 : 0;
  if (s.lastSent > last) {
    // The client is ahead of the log (the store was replaced): tell it where the log ends and
    // go on live from there; the live lines up to `last` are then skipped as already sent.
    s.appendReset(last);
    s.catchingUp = false;
    return true;
  }
  size_t textBytes = 0;
  for (const LogLine& l : page->lines) {
    textBytes += l.text.size();
    if (l.lineNo > s.lastSent) s.appendLine(l);
  }
  if (page->lines.size() < chunk && textBytes < kBackfillReadBytes) s.catchingUp = false;
  return true;
}

bool fillGap(host::CollectorApi& api, SseStream& s, uint64_t upTo, size_t chunk) {
  while (s.lastSent + 1 < upTo) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, upTo - s.lastSent - 1));
    auto page = api.readLogs(s.id, s.lastSent, plugin::LogReadLimit(want, kBackfillReadBytes));
    if (!page.isOk()) {
      if (page.status().isNotFound()) {
        s.endQueued = true;
        s.lastSent = upTo - 1;
        return true;
      }
      spdlog::warn("sse {}: reading the log gap: {}", s.id, page.status().toString());
      return false;
    }
    bool progressed = false;
    for (const LogLine& l : page->lines) {
      if (l.lineNo <= s.lastSent || l.lineNo >= upTo) continue;
      s.appendLine(l);
      progressed = true;
    }
    // Lines storage no longer has (retention) are simply absent.
    if (!progressed) s.lastSent = upTo - 1;
  }
  return true;
}

}  // namespace zc::exporters
