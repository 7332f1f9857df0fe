// Helpers shared by the fuzz targets: a check that aborts (so libFuzzer records the input) even
// where NDEBUG is set, and a tiny deterministic generator that turns a few control bytes of the
// input into slice sizes and stop points (so a crash replays exactly from its input file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                         \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, \
                   #cond);                                                            \
      std::fprintf(stderr, __VA_ARGS__);                                              \
      std::fprintf(stderr, "\n");                                                     \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace zc::fuzz {

// splitmix64: cheap, and every seed gives a usable sequence.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() noexcept {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // A slice length in [0, max]: mostly small (byte-at-a-time, header-sized), sometimes large.
  size_t sliceLen(size_t max) noexcept {
    uint64_t r = next();
    size_t len;
    switch (r & 3) {
      case 0: len = 1; break;
      case 1: len = (r >> 8) % 9; break;    // 0..8: header boundaries
      case 2: len = (r >> 8) % 64; break;
      default: len = (r >> 8) % 4096; break;
    }
    return len < max ? len : max;
  }
  bool oneIn(unsigned n) noexcept { return next() % n == 0; }

 private:
  uint64_t s_;
};

// Takes the first `n` bytes of the input as control bytes (zero-padded when short).
struct Control {
  uint8_t b[8] = {};
  std::string_view rest;
  Control(const uint8_t* data, size_t size, size_t n) {
    for (size_t i = 0; i < n && i < sizeof b && i < size; ++i) b[i] = data[i];
    size_t skip = size < n ? size : n;
    rest = std::string_view(reinterpret_cast<const char*>(data) + skip, size - skip);
  }
  uint64_t seed() const noexcept {
    uint64_t s = 0;
    for (uint8_t x : b) s = (s << 8) | x;
    return s;
  }
};

inline std::string hexPreview(std::string_view s, size_t max = 48) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    out += kHex[static_cast<unsigned char>(s[i]) >> 4];
    out += kHex[static_cast<unsigned char>(s[i]) & 15];
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace zc::fuzz
