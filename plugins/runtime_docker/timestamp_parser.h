// TimestampParser: the "<RFC3339Nano> " prefix the engine puts before every log message when
// timestamps=1 ("2026-11-28T00:37:05.054966693Z "). The engine writes a fixed-width form; that
// path is parsed by hand with the day number of the last date cached (one date per day of log).
// Anything else falls back to zc::parseRfc3339.
//
// Thread-safety: none (holds a cache); one per stream reader.
#pragma once

#include <cstddef>

#include "zc/model.h"

namespace zc::docker {

class TimestampParser {
 public:
  // Parses the timestamp at the start of p[0..n) up to the first space. On success sets *ts and
  // *prefixLen (timestamp plus the space) and returns true.
  bool parsePrefix(const char* p, size_t n, TimeNs* ts, size_t* prefixLen) noexcept;

 private:
  char cachedDate_[10] = {};
  int64_t cachedDays_ = -1;
};

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) noexcept;

}  // namespace zc::docker
