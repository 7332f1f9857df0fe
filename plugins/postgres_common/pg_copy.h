// PgCopyWriter: rows in PostgreSQL's binary COPY format (COPY ... FROM STDIN WITH (FORMAT
// binary)), the cheapest way to hand the server many rows: no SQL text to parse or plan per row,
// no text conversions on either side.
//
// The caller adds the rows' fields in the order of the COPY's column list, with the types the
// columns have (a mismatch is the server's error at COPY time, not undefined behaviour). text()
// sends the bytes as they are: the caller passes valid UTF-8 without NUL (pg::toPgText).
// Not thread-safe; a value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zc/model.h"

namespace zc::pg {

class PgCopyWriter {
 public:
  PgCopyWriter();
  // Starts a row of `fields` fields; exactly that many field calls must follow.
  void row(int16_t fields);
  void text(std::string_view s);
  void int8(int64_t v);
  void boolean(bool v);
  // A timestamptz: `t` truncated to microseconds toward minus infinity (as pg::toMicros).
  void timestamptz(TimeNs t);
  // The whole stream with its trailer; the writer is spent afterwards.
  std::string finish();

 private:
  void put16(int16_t v);
  void put32(int32_t v);
  void put64(int64_t v);
  std::string buf_;
};

}  // namespace zc::pg
