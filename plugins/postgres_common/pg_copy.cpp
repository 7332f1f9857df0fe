#include "pg_copy.h"

#include "pg_text.h"

namespace zc::pg {
namespace {

// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00 UTC.
constexpr int64_t kPgEpochMicros = 946'684'800'000'000;

}  // namespace

PgCopyWriter::PgCopyWriter() {
  // Signature, flags (no OIDs), header extension length.
  buf_.assign("PGCOPY\n\377\r\n\0", 11);
  put32(0);
  put32(0);
}

void PgCopyWriter::row(int16_t fields) { put16(fields); }

void PgCopyWriter::text(std::string_view s) {
  put32(static_cast<int32_t>(s.size()));
  buf_.append(s);
}

void PgCopyWriter::int8(int64_t v) {
  put32(8);
  put64(v);
}

void PgCopyWriter::boolean(bool v) {
  put32(1);
  buf_.push_back(v ? '\1' : '\0');
}

void PgCopyWriter::timestamptz(TimeNs t) {
  put32(8);
  put64(toMicros(t) - kPgEpochMicros);
}

std::string PgCopyWriter::finish() {
  put16(-1);
  return std::move(buf_);
}

// Network byte order, whatever the host's.
void PgCopyWriter::put16(int16_t v) {
  const auto u = static_cast<uint16_t>(v);
  buf_.push_back(static_cast<char>(u >> 8));
  buf_.push_back(static_cast<char>(u & 0xff));
}

void PgCopyWriter::put32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8) buf_.push_back(static_cast<char>((u >> shift) & 0xff));
}

void PgCopyWriter::put64(int64_t v) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) buf_.push_back(static_cast<char>((u >> shift) & 0xff));
}

}  // namespace zc::pg
