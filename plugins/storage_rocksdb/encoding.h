// Byte encodings of the RocksDB store: keys that sort by (deployment, lineNo) or (deployment,
// time), and the values of log lines, metric samples and deployment rows.
//
// Keys (every id is validated first, so it never contains '\0'):
//   logs, system : id '\0' be64(lineNo)
//   metrics      : id '\0' be64(sampledAt ^ 2^63)       (signed time, unsigned byte order)
//   meta         : id '\0' 'n'                          -> be64(next lineNo)
//                  id '\0' 'c' <cursor key bytes>       -> cursor value bytes
//   deployments  : id                                   -> encodeDeployment()
// All keys of one deployment in a prefixed CF lie in [id '\0', id '\1').
//
// Values:
//   log line : u8 stream, u8 flags (bit 0: truncated), le64 ts, text bytes (to the end)
//   metric   : le64 bits of cpuPct, memUsedMb, memLimitMb
//   deployment: u8 format version (1), then the fields in declaration order (see encoding.cpp).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "zc/model.h"
#include "zc/status.h"

namespace zc::storage::encoding {

constexpr size_t kLineKeySuffix = 1 + 8;  // '\0' + be64
constexpr size_t kLineHeaderSize = 10;    // stream, flags, le64 ts
constexpr size_t kMetricValueSize = 24;

inline void putBe64(char* out, uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline uint64_t getBe64(const char* p) noexcept {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline void putLe64(char* out, uint64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
inline uint64_t getLe64(const char* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// Maps a signed time to an unsigned value with the same order.
inline uint64_t timeToOrdered(TimeNs t) noexcept {
  return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
}
inline TimeNs orderedToTime(uint64_t v) noexcept {
  return static_cast<TimeNs>(v ^ (uint64_t{1} << 63));
}

// id '\0' and id '\1': the bounds of a deployment's keys in a prefixed CF.
std::string prefixBegin(std::string_view id);
std::string prefixEnd(std::string_view id);

// id '\0' be64(lineNo).
std::string lineKey(std::string_view id, uint64_t lineNo);
// id '\0' be64(ordered(t)).
std::string metricKey(std::string_view id, TimeNs t);
// Meta keys.
std::string nextLineNoKey(std::string_view id);
std::string cursorKey(std::string_view id, std::string_view cursorKey);

// The id part of a prefixed key, or false when the key has no '\0' (not ours).
bool splitPrefixedKey(std::string_view key, std::string_view* id, std::string_view* rest) noexcept;
// lineNo / time of a logs, system or metrics key whose id is `idLen` bytes; false when the key
// is not id '\0' + 8 bytes.
bool decodeKeyNumber(std::string_view key, size_t idLen, uint64_t* out) noexcept;

// Header of a log line value; the text follows it.
inline void encodeLineHeader(char* out, LogStream stream, bool truncated, TimeNs ts) noexcept {
  out[0] = static_cast<char>(stream);
  out[1] = static_cast<char>(truncated ? 1 : 0);
  putLe64(out + 2, static_cast<uint64_t>(ts));
}
// Decodes a log line value; false when it is malformed. `text` points into `value`.
bool decodeLineValue(std::string_view value, LogStream* stream, bool* truncated, TimeNs* ts,
                     std::string_view* text) noexcept;
// Only the ts of a log line value; false when malformed.
inline bool decodeLineTs(std::string_view value, TimeNs* ts) noexcept {
  if (value.size() < kLineHeaderSize) return false;
  *ts = static_cast<TimeNs>(getLe64(value.data() + 2));
  return true;
}

void encodeMetricValue(const MetricSample& s, char* out) noexcept;
bool decodeMetricValue(std::string_view value, MetricSample* s) noexcept;

// Deployment rows: a compact, versioned binary encoding. decodeDeployment returns Corruption on
// anything malformed (unknown version, truncated, trailing bytes, unknown status).
std::string encodeDeployment(const Deployment& d);
Result<Deployment> decodeDeployment(std::string_view bytes);

}  // namespace zc::storage::encoding
