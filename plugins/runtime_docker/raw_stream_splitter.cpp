#include "raw_stream_splitter.h"

#include <cstdint>

namespace zc::docker {
namespace {

constexpr size_t kTsLen = 30;  // 2026-11-28T00:37:05.054966693Z
constexpr size_t kMaxPrefix = 64;

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Whether q[0..31) is "dddd-dd-ddTdd:dd:dd.dddddddddZ ".
bool looksLikeTimestamp(const char* q) {
  static constexpr char kShape[] = "dddd-dd-ddTdd:dd:dd.dddddddddZ ";
  for (size_t i = 0; i < kTsLen + 1; ++i) {
    if (kShape[i] == 'd') {
      if (!isDigit(q[i])) return false;
    } else if (q[i] != kShape[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

size_t RawStreamSplitter::findLaterTimestamp(const char* c, size_t n, TimeNs after) {
  // A timestamp has its 'T' at offset 10.
  size_t from = 10;
  while (from + kTsLen + 1 - 10 <= n) {
    const void* t = std::memchr(c + from, 'T', n - from);
    if (t == nullptr) break;
    size_t at = static_cast<size_t>(static_cast<const char*>(t) - c);
    if (at + kTsLen + 1 - 10 > n) break;
    const char* start = c + at - 10;
    if (looksLikeTimestamp(start)) {
      TimeNs ts;
      size_t prefix;
      if (innerParser_.parsePrefix(start, kTsLen + 1, &ts, &prefix) && ts > after) return at - 10;
    }
    from = at + 1;
  }
  return n;
}

size_t RawStreamSplitter::messageLength(const char* p, size_t n, bool atEnd) {
  TimeNs ts;
  size_t prefix;
  if (!tsParser_.parsePrefix(p, n, &ts, &prefix)) {
    if (!atEnd && n < kMaxPrefix && std::memchr(p, ' ', n) == nullptr) return 0;
    return SIZE_MAX;
  }
  const char* c = p + prefix;
  size_t avail = n - prefix;
  size_t limit = avail < pieceBytes_ ? avail : pieceBytes_;
  const void* nl = std::memchr(c, '\n', limit);
  size_t end;
  bool complete;
  if (nl != nullptr) {
    end = static_cast<size_t>(static_cast<const char*>(nl) - c) + 1;
    complete = true;
  } else if (avail >= pieceBytes_) {
    end = pieceBytes_;
    complete = true;
  } else {
    end = avail;
    complete = atEnd;
  }
  size_t cut = findLaterTimestamp(c, end, ts);
  if (cut < end) return prefix + cut;
  return complete ? prefix + end : 0;
}

}  // namespace zc::docker
