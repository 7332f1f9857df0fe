// LogStreamParser (the follow loop's read path: HTTP response reader -> frame decoder or TTY
// splitter -> line assembler) fed the same log response whole and in slices chosen by the input,
// with chunks due at a small line limit.
//
// Input: [slice seed x3][flags] then the response bytes. Flags bit 0: the container is TTY;
// bits 1-3: chunk_max_lines - 1 (1..8); bit 4: the consumer stops after its first chunk.
// Checks: the result does not depend on the slicing (lines and their streams, chunk sizes, the
// error or not, the status, the error body); a chunk is due only at the line limit; nothing
// is delivered after the consumer stopped; a non-200 response delivers no line and keeps at most
// 4 KiB of body.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "log_stream_parser.h"

using zc::docker::LineAssembler;
using zc::docker::LogStreamParser;

namespace {

struct Outcome {
  std::vector<std::string> lines;
  std::vector<size_t> chunks;
  bool ok = true;
  int status = 0;
  std::string errorBody;
  bool operator==(const Outcome&) const = default;
};

Outcome feed(const std::string& in, zc::fuzz::Rng* rng, bool tty, size_t maxLines, bool stopFirst) {
  Outcome o;
  LineAssembler assembler(LineAssembler::Options{4096, 1024});
  assembler.reset(zc::docker::LogCursor{});
  std::vector<zc::plugin::RawLine> pending;
  LogStreamParser parser(assembler, pending, LogStreamParser::Limits{4096, 1024, maxLines, 1 << 20},
                         tty);
  bool stopped = false;
  bool atEnd = false;
  auto due = [&] {
    FUZZ_CHECK(!stopped, "a chunk due after the consumer stopped");
    // Due only at the limit (a message with inner newlines may take it past by its lines).
    FUZZ_CHECK(atEnd || pending.size() >= maxLines, "chunk of %zu lines due under %zu",
               pending.size(), maxLines);
    o.chunks.push_back(pending.size());
    for (auto& l : pending) o.lines.push_back(char('0' + int(l.stream)) + l.text);
    pending.clear();
    assembler.takeEmittedBytes();
    if (stopFirst) stopped = true;
    return !stopFirst;
  };
  size_t pos = 0;
  zc::Status st;
  while (pos < in.size() && st.isOk() && !parser.stoppedEarly()) {
    size_t len = rng ? rng->sliceLen(in.size() - pos) : in.size() - pos;
    st = parser.feed(in.data() + pos, len, due);
    pos += len;
    if (st.isOk() && parser.bodyComplete()) {
      st = parser.finish(due);
      break;
    }
  }
  if (st.isOk() && !parser.bodyComplete() && !parser.stoppedEarly()) st = parser.atEof(due);
  o.ok = st.isOk();
  o.status = parser.status();
  o.errorBody = parser.errorBody();
  FUZZ_CHECK(o.errorBody.size() <= 4096, "error body of %zu bytes", o.errorBody.size());
  if (parser.headComplete() && o.status != 200) {
    FUZZ_CHECK(o.lines.empty() && pending.empty(), "lines from a %d response", o.status);
  }
  if (!stopped && o.ok) {
    // What is left pending is handed over at the end, as the follower does.
    atEnd = true;
    if (!pending.empty()) due();
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 4);
  std::string in(ctl.rest);
  bool tty = ctl.b[3] & 1;
  size_t maxLines = ((ctl.b[3] >> 1) & 7) + 1;
  bool stopFirst = (ctl.b[3] >> 4) & 1;
  Outcome whole = feed(in, nullptr, tty, maxLines, stopFirst);
  zc::fuzz::Rng rng(ctl.seed());
  Outcome sliced = feed(in, &rng, tty, maxLines, stopFirst);
  // An error may surface in a different place of a sliced feed only in what is delivered before
  // it; so compare everything when both ended the same way, and the status always.
  FUZZ_CHECK(whole.ok == sliced.ok, "slicing changes ok: %d/%d", whole.ok, sliced.ok);
  FUZZ_CHECK(whole.status == sliced.status, "slicing changes the status");
  if (whole.ok) {
    FUZZ_CHECK(whole == sliced, "slicing changes the result: %zu/%zu lines, %zu/%zu chunks",
               whole.lines.size(), sliced.lines.size(), whole.chunks.size(), sliced.chunks.size());
  }
  return 0;
}
