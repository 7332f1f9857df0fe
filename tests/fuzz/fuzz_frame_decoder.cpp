// FrameDecoder fed the same multiplexed stream in slices chosen by the input, against a
// whole-buffer reference decoder written from the header's description of the format.
//
// Input: [maxPayload selector][slice seed x3][stop seed] then the stream bytes.
// Checks: the frames (stream, payload) and their order equal the reference's; a protocol error
// happens exactly when the reference finds one, after the same frames, and stays sticky; a feed
// that is not stopped consumes its whole slice; a stopped feed reports how much it used and the
// rest fed again loses nothing; idle() is true exactly at a frame boundary; reset() recovers.
#include <cstdint>
#include <string>
#include <vector>

#include "frame_decoder.h"
#include "fuzz_support.h"

using zc::docker::FrameDecoder;
using zc::docker::FrameStream;

namespace {

struct Frame {
  uint8_t stream;
  std::string payload;
  bool operator==(const Frame&) const = default;
};

enum class End { kIdle, kPartial, kError };

End reference(std::string_view s, size_t maxPayload, std::vector<Frame>& out) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (s.size() - pos < 8) return End::kPartial;
    const auto* h = reinterpret_cast<const unsigned char*>(s.data() + pos);
    if (h[0] > 3 || h[1] || h[2] || h[3]) return End::kError;
    size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    if (len > maxPayload) return End::kError;
    if (s.size() - pos - 8 < len) return End::kPartial;
    out.push_back(Frame{h[0], std::string(s.substr(pos + 8, len))});
    pos += 8 + len;
  }
  return End::kIdle;
}

// The follower's bound is maxLineBytes + 64 KiB; the decoder reserves up to the bound for a frame
// split across slices, so bounds stay in that range.
constexpr size_t kBounds[] = {0, 1, 7, 16, 255, 4096, 65536 + 64, (1u << 20) + 64 * 1024};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 5);
  const size_t maxPayload = kBounds[ctl.b[0] % (sizeof kBounds / sizeof kBounds[0])];
  std::string_view stream = ctl.rest;

  std::vector<Frame> want;
  End wantEnd = reference(stream, maxPayload, want);

  zc::fuzz::Rng rng(ctl.seed());
  const unsigned stopOneIn = 1 + ctl.b[4] % 8;  // 1: stop after every frame
  FrameDecoder dec(maxPayload);
  std::vector<Frame> got;
  auto sink = [&](FrameStream st, const char* p, size_t n) {
    FUZZ_CHECK(static_cast<uint8_t>(st) <= 3, "stream %u", static_cast<unsigned>(st));
    got.push_back(Frame{static_cast<uint8_t>(st), std::string(p, n)});
    return !rng.oneIn(stopOneIn);
  };

  size_t pos = 0;
  bool failed = false;
  while (pos < stream.size() && !failed) {
    size_t len = rng.sliceLen(stream.size() - pos);
    const char* slice = stream.data() + pos;
    size_t used = 0;
    // Feeds the slice; when the sink stops early, feeds the rest of it again.
    while (true) {
      size_t consumed = SIZE_MAX;
      size_t framesBefore = got.size();
      zc::Status st = dec.feed(slice + used, len - used, sink, &consumed);
      if (!st.isOk()) {
        failed = true;
        break;
      }
      FUZZ_CHECK(consumed <= len - used, "consumed %zu of %zu", consumed, len - used);
      used += consumed;
      if (used == len) break;
      // Not everything used: only allowed when the sink said stop on the last frame.
      FUZZ_CHECK(got.size() > framesBefore, "feed left %zu bytes without a stop", len - used);
    }
    pos += len;
  }

  FUZZ_CHECK(got.size() <= want.size(), "decoder produced %zu frames, reference %zu", got.size(),
             want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    FUZZ_CHECK(got[i] == want[i], "frame %zu differs (stream %u/%u, len %zu/%zu)", i,
               got[i].stream, want[i].stream, got[i].payload.size(), want[i].payload.size());
  }
  if (failed) {
    FUZZ_CHECK(wantEnd == End::kError, "decoder failed where the reference did not");
    FUZZ_CHECK(got.size() == want.size(), "error after %zu frames, reference after %zu",
               got.size(), want.size());
    // Sticky: any further feed fails too.
    char byte = 0;
    FUZZ_CHECK(!dec.feed(&byte, 1, sink).isOk(), "error not sticky");
    dec.reset();
    FUZZ_CHECK(dec.idle(), "reset() did not make the decoder idle");
    const char frame[8] = {1, 0, 0, 0, 0, 0, 0, 0};  // empty: within every bound
    got.clear();
    FUZZ_CHECK(dec.feed(frame, 8, [&](FrameStream, const char*, size_t) { return true; }).isOk(),
               "decoder unusable after reset()");
    return 0;
  }
  FUZZ_CHECK(wantEnd != End::kError, "reference failed, decoder did not");
  FUZZ_CHECK(got.size() == want.size(), "decoder produced %zu frames, reference %zu", got.size(),
             want.size());
  FUZZ_CHECK(dec.idle() == (wantEnd == End::kIdle), "idle() %d at end %d", dec.idle(),
             static_cast<int>(wantEnd));
  return 0;
}
