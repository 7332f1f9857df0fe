// The engine's multiplexed-stream frame, for tests: 8-byte header (stream, three zero bytes,
// big-endian payload length) followed by the payload.
#pragma once

#include <cstdint>
#include <string>

namespace zc::docker::testing {

inline std::string muxFrame(int stream, const std::string& payload) {
  std::string f(8, '\0');
  f[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  f[4] = static_cast<char>(n >> 24);
  f[5] = static_cast<char>(n >> 16);
  f[6] = static_cast<char>(n >> 8);
  f[7] = static_cast<char>(n);
  return f + payload;
}

}  // namespace zc::docker::testing
