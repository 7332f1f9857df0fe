// RawStreamSplitter: the log stream of a TTY container (no frames), cut back into engine messages.
//
// With timestamps=1 every message starts with "<RFC3339Nano> ". A message ends after its '\n';
// a line longer than the engine's piece size (16 KiB) arrives as pieces of exactly that size
// without '\n', each with its own timestamp prefix (verified against the engine). The last piece
// a container wrote before exiting has no '\n': it ends at the end of the stream, or where a
// fixed-width engine timestamp later than its own begins (the next run after a restart). A
// content that itself holds such a timestamp-shaped string later than the message's own
// timestamp right before a restart is the one ambiguous case; it is cut there.
//
// Thread-safety: none; one per follow.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

#include "timestamp_parser.h"
#include "zc/status.h"

namespace zc::docker {

class RawStreamSplitter {
 public:
  explicit RawStreamSplitter(size_t pieceBytes = 16 * 1024) : pieceBytes_(pieceBytes) {}

  // Feeds raw bytes; calls sink(const char* msg, size_t n) -> bool for each whole message
  // (timestamp prefix included); a false return stops the feed early (the rest is dropped).
  // Corruption when a message does not start with a timestamp.
  template <typename Sink>
  Status feed(const char* data, size_t n, Sink&& sink);
  // The stream ended: whatever is buffered is the last message.
  template <typename Sink>
  Status finish(Sink&& sink);
  void reset() { buf_.clear(); }
  bool idle() const noexcept { return buf_.empty(); }

 private:
  // Length of the message at p[0..n), 0 when more bytes are needed, SIZE_MAX on a bad prefix.
  size_t messageLength(const char* p, size_t n, bool atEnd);
  // Offset in c[0..n) where a fixed-width timestamp later than `after` followed by a space
  // begins, or n.
  size_t findLaterTimestamp(const char* c, size_t n, TimeNs after);

  template <typename Sink>
  Status run(const char* p, size_t n, bool atEnd, Sink& sink, size_t* used, bool* stopped);

  size_t pieceBytes_;
  std::string buf_;
  TimestampParser tsParser_;
  TimestampParser innerParser_;
};

template <typename Sink>
Status RawStreamSplitter::run(const char* p, size_t n, bool atEnd, Sink& sink, size_t* used,
                              bool* stopped) {
  size_t pos = 0;
  while (pos < n) {
    size_t len = messageLength(p + pos, n - pos, atEnd);
    if (len == SIZE_MAX) return Status::corruption("tty log stream: message without a timestamp");
    if (len == 0) break;
    if (!sink(p + pos, len)) {
      *stopped = true;
      break;
    }
    pos += len;
  }
  *used = pos;
  return Status::ok();
}

template <typename Sink>
Status RawStreamSplitter::feed(const char* data, size_t n, Sink&& sink) {
  size_t used = 0;
  bool stopped = false;
  if (buf_.empty()) {
    Status st = run(data, n, false, sink, &used, &stopped);
    if (!st.isOk()) return st;
    if (!stopped) buf_.assign(data + used, n - used);
    return Status::ok();
  }
  buf_.append(data, n);
  Status st = run(buf_.data(), buf_.size(), false, sink, &used, &stopped);
  if (!st.isOk()) return st;
  if (stopped) {
    buf_.clear();
  } else {
    buf_.erase(0, used);
  }
  return Status::ok();
}

template <typename Sink>
Status RawStreamSplitter::finish(Sink&& sink) {
  size_t used = 0;
  bool stopped = false;
  Status st = run(buf_.data(), buf_.size(), true, sink, &used, &stopped);
  buf_.clear();
  return st;
}

}  // namespace zc::docker
