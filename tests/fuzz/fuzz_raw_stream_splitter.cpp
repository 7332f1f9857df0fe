// RawStreamSplitter (TTY containers: no frames) fed whole and in slices chosen by the input, and
// its messages handed on to a LineAssembler as the follower does.
//
// Input: [piece size sel][slice seed x3][stop seed] then the raw stream bytes.
// Checks: slicing does not change the messages or the outcome; every message starts with a
// timestamp prefix that the line assembler accepts and holds at most one piece of content; the
// messages joined are the input (when the stream is well formed) or a prefix of it (when it is
// refused); a sink that says stop gets no more messages from that feed and the splitter stays
// usable; the assembled lines keep the assembler's invariants (cap, no LF).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "line_assembler.h"
#include "raw_stream_splitter.h"

using zc::docker::RawStreamSplitter;
using zc::docker::TimestampParser;

namespace {

constexpr size_t kPieces[] = {8, 16, 31, 32, 64, 16 * 1024};

struct Result {
  std::vector<std::string> msgs;
  bool ok = true;
  bool operator==(const Result&) const = default;
};

Result split(std::string_view in, size_t piece, zc::fuzz::Rng* rng) {
  Result r;
  RawStreamSplitter s(piece);
  auto sink = [&](const char* p, size_t n) {
    r.msgs.emplace_back(p, n);
    return true;
  };
  size_t pos = 0;
  while (pos < in.size()) {
    size_t len = rng ? rng->sliceLen(in.size() - pos) : in.size() - pos;
    if (!s.feed(in.data() + pos, len, sink).isOk()) {
      r.ok = false;
      return r;
    }
    pos += len;
  }
  r.ok = s.finish(sink).isOk();
  FUZZ_CHECK(s.idle(), "not idle after finish()");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 5);
  const size_t piece = kPieces[ctl.b[0] % (sizeof kPieces / sizeof kPieces[0])];
  std::string in(ctl.rest);

  Result whole = split(in, piece, nullptr);
  zc::fuzz::Rng rng(ctl.seed());
  Result sliced = split(in, piece, &rng);
  FUZZ_CHECK(whole == sliced, "slicing changes the result: ok %d/%d, %zu/%zu messages", whole.ok,
             sliced.ok, whole.msgs.size(), sliced.msgs.size());

  std::string joined;
  TimestampParser tp;
  zc::docker::LineAssembler::Options opt;
  opt.maxLineBytes = 1 + ctl.b[4] % 32;
  opt.partialPieceBytes = piece;
  zc::docker::LineAssembler assembler(opt);
  std::vector<zc::plugin::RawLine> lines;
  for (const std::string& m : whole.msgs) {
    zc::TimeNs ts;
    size_t prefix = 0;
    FUZZ_CHECK(tp.parsePrefix(m.data(), m.size(), &ts, &prefix), "message without a timestamp: %s",
               zc::fuzz::hexPreview(m).c_str());
    FUZZ_CHECK(m.size() - prefix <= piece, "message content of %zu bytes, piece size %zu",
               m.size() - prefix, piece);
    const char* nl = static_cast<const char*>(std::memchr(m.data() + prefix, '\n', m.size() - prefix));
    FUZZ_CHECK(nl == nullptr || nl == m.data() + m.size() - 1, "LF inside a message");
    joined += m;
    zc::Status st = assembler.message(zc::LogStream::kStdout, m.data(), m.size(), lines);
    FUZZ_CHECK(st.isOk(), "line assembler refuses a splitter message: %s", st.message().c_str());
  }
  assembler.finish(lines);
  for (const auto& l : lines) {
    FUZZ_CHECK(l.text.size() <= opt.maxLineBytes, "line over the cap");
    FUZZ_CHECK(std::memchr(l.text.data(), '\n', l.text.size()) == nullptr, "line holds a LF");
  }
  if (whole.ok) {
    FUZZ_CHECK(joined == in, "messages joined (%zu bytes) are not the input (%zu bytes)",
               joined.size(), in.size());
  } else {
    FUZZ_CHECK(in.compare(0, joined.size(), joined) == 0, "messages are not a prefix of the input");
  }

  // A sink that stops: no further message from that feed, and the splitter goes on afterwards.
  RawStreamSplitter s(piece);
  zc::fuzz::Rng stopRng(ctl.seed() ^ 0x5a5a);
  size_t pos = 0;
  while (pos < in.size()) {
    size_t len = stopRng.sliceLen(in.size() - pos);
    bool stopped = false;
    zc::Status st = s.feed(in.data() + pos, len, [&](const char*, size_t) {
      FUZZ_CHECK(!stopped, "sink called after it said stop");
      stopped = stopRng.oneIn(3);
      return !stopped;
    });
    if (!st.isOk()) break;
    pos += len;
  }
  (void)s.finish([](const char*, size_t) { return true; });
  return 0;
}
