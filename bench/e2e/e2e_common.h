// Small helpers shared by bench_e2e's parts: time, the lines the writer prints.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "zc/model.h"

namespace zc::bench::e2e {

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The engine's RFC 3339 timestamp -> ns since the epoch, with the collector's own parser.
inline bool parseRfc3339Ns(std::string_view s, int64_t* ns) {
  auto t = zc::parseRfc3339(s);
  if (!t.isOk()) return false;
  *ns = t.value();
  return true;
}

// The i of a line "line <i> ...", or -1.
inline int64_t lineIndex(std::string_view text) {
  if (text.substr(0, 5) != "line ") return -1;
  int64_t i = 0;
  size_t pos = 5;
  if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') return -1;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
    i = i * 10 + (text[pos++] - '0');
  return i;
}

}  // namespace zc::bench::e2e
