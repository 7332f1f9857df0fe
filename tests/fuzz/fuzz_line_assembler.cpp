// LineAssembler: engine messages -> lines, with small caps so the truncation and partial-piece
// paths are reached by short inputs, and the exact-resume contract checked end to end.
//
// Input: [maxLineBytes sel][partialPieceBytes sel][cut point][flags] then messages framed like the
// engine's multiplexed stream (8-byte header: byte 0 == 2 is stderr, anything else stdout; bytes
// 4-7 big-endian length, clamped to what is left), so real captured log bytes are valid seeds.
//
// Checks, always: no line longer than maxLineBytes; a truncated line is exactly maxLineBytes; no
// line holds '\n'; each line's stream is the stream of a message; emitted-byte accounting adds up;
// a rejected message (bad timestamp prefix) changes neither the lines nor the cursor; the cursor
// after every message round-trips through encode()/decode().
// Checks on engine-shaped logs (flags bit 0 clear: per stream, timestamps > 0 and never going
// back, as the engine guarantees; messages that break this are left out): per stream, line
// timestamps and the cursor's lastTs never go back; and the resume contract: lines(before cut) +
// lines(new assembler reset to the cursor at the cut, fed every message with ts >= since, as the
// engine's inclusive `since` re-sends them) == lines(one assembler fed everything).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "line_assembler.h"

using zc::LogStream;
using zc::TimeNs;
using zc::docker::LineAssembler;
using zc::docker::LogCursor;
using zc::docker::TimestampParser;
using zc::plugin::RawLine;

namespace {

constexpr size_t kMaxLine[] = {1, 2, 3, 5, 8, 16, 64, 1 << 20};
constexpr size_t kPiece[] = {1, 2, 4, 8, 16, 32, 16 * 1024};

struct Msg {
  LogStream stream;
  std::string_view bytes;
  TimeNs ts = 0;
  bool valid = false;
};

struct Line {
  LogStream stream;
  TimeNs ts;
  std::string text;
  bool truncated;
  bool operator==(const Line&) const = default;
};

std::vector<Msg> splitMessages(std::string_view s) {
  std::vector<Msg> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const auto* h = reinterpret_cast<const unsigned char*>(s.data() + pos);
    size_t have = s.size() - pos;
    if (have < 8) {
      out.push_back(Msg{LogStream::kStdout, s.substr(pos)});
      break;
    }
    size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    if (len > have - 8) len = have - 8;
    out.push_back(Msg{h[0] == 2 ? LogStream::kStderr : LogStream::kStdout, s.substr(pos + 8, len)});
    pos += 8 + len;
  }
  return out;
}

std::string show(const Line& l) {
  return std::string(l.stream == LogStream::kStderr ? "err" : "out") + " ts=" +
         std::to_string(l.ts) + " trunc=" + std::to_string(l.truncated) +
         " text=" + zc::fuzz::hexPreview(l.text);
}

// Runs `msgs` through `a`, checking the per-call invariants; appends the lines to `lines`.
void run(LineAssembler& a, const std::vector<const Msg*>& msgs, size_t maxLine, bool monotonic,
         std::vector<Line>& lines, size_t cutAt = 0, LogCursor* cutCursor = nullptr,
         size_t* cutLines = nullptr) {
  std::vector<RawLine> out;
  TimeNs lastLineTs[2] = {INT64_MIN, INT64_MIN};
  TimeNs lastCursorTs[2] = {a.cursor().out.lastTs, a.cursor().err.lastTs};
  for (size_t i = 0; i <= msgs.size(); ++i) {
    if (cutCursor != nullptr && i == cutAt) {
      *cutCursor = a.cursor();
      *cutLines = lines.size();
    }
    if (i == msgs.size()) break;
    const Msg& m = *msgs[i];
    out.clear();
    LogCursor before = a.cursor();
    size_t emittedBefore = a.emittedBytes();
    zc::Status st = a.message(m.stream, m.bytes.data(), m.bytes.size(), out);
    if (!st.isOk()) {
      FUZZ_CHECK(!m.valid, "message with a valid timestamp rejected: %s", st.message().c_str());
      FUZZ_CHECK(out.empty() && a.cursor() == before && a.emittedBytes() == emittedBefore,
                 "a rejected message changed the state");
      continue;
    }
    FUZZ_CHECK(m.valid, "message without a valid timestamp accepted: %s",
               zc::fuzz::hexPreview(m.bytes).c_str());
    size_t bytes = 0;
    for (RawLine& r : out) {
      FUZZ_CHECK(r.stream == m.stream, "line on another stream than its message");
      FUZZ_CHECK(r.text.size() <= maxLine, "line of %zu bytes over the cap %zu", r.text.size(),
                 maxLine);
      FUZZ_CHECK(!r.truncated || r.text.size() == maxLine, "truncated line of %zu bytes, cap %zu",
                 r.text.size(), maxLine);
      FUZZ_CHECK(std::memchr(r.text.data(), '\n', r.text.size()) == nullptr, "line holds a LF");
      FUZZ_CHECK(r.ts <= m.ts || !monotonic, "line ts after its completing message's ts");
      size_t si = r.stream == LogStream::kStderr ? 1 : 0;
      if (monotonic) {
        FUZZ_CHECK(r.ts >= lastLineTs[si], "line ts went back on a stream: %lld < %lld",
                   static_cast<long long>(r.ts), static_cast<long long>(lastLineTs[si]));
      }
      lastLineTs[si] = r.ts;
      bytes += r.text.size();
      lines.push_back(Line{r.stream, r.ts, std::move(r.text), r.truncated});
    }
    FUZZ_CHECK(a.emittedBytes() - emittedBefore == bytes, "emittedBytes off by %zd",
               static_cast<ssize_t>(a.emittedBytes() - emittedBefore - bytes));
    const LogCursor& c = a.cursor();
    if (monotonic) {
      FUZZ_CHECK(c.out.lastTs >= lastCursorTs[0] && c.err.lastTs >= lastCursorTs[1],
                 "cursor lastTs went back");
      lastCursorTs[0] = c.out.lastTs;
      lastCursorTs[1] = c.err.lastTs;
      std::string enc = c.encode();
      auto dec = LogCursor::decode(enc);
      FUZZ_CHECK(dec.isOk() && *dec == c, "cursor '%s' does not round-trip", enc.c_str());
    }
  }
  out.clear();
  a.finish(out);
  for (RawLine& r : out) {
    FUZZ_CHECK(r.text.size() <= maxLine, "finish(): line over the cap");
    FUZZ_CHECK(std::memchr(r.text.data(), '\n', r.text.size()) == nullptr, "line holds a LF");
    lines.push_back(Line{r.stream, r.ts, std::move(r.text), r.truncated});
  }
  FUZZ_CHECK(!a.hasPending(), "pending line after finish()");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zc::fuzz::Control ctl(data, size, 4);
  LineAssembler::Options opt;
  opt.maxLineBytes = kMaxLine[ctl.b[0] % (sizeof kMaxLine / sizeof kMaxLine[0])];
  opt.partialPieceBytes = kPiece[ctl.b[1] % (sizeof kPiece / sizeof kPiece[0])];
  const bool engineShapedOnly = (ctl.b[3] & 1) == 0;
  const bool hugeMargin = (ctl.b[3] & 2) != 0;

  std::vector<Msg> all = splitMessages(ctl.rest);
  TimestampParser tp;
  for (Msg& m : all) {
    size_t prefix;
    m.valid = tp.parsePrefix(m.bytes.data(), m.bytes.size(), &m.ts, &prefix);
  }

  std::vector<const Msg*> msgs;
  bool resumable = engineShapedOnly;
  if (engineShapedOnly) {
    TimeNs last[2] = {0, 0};
    for (const Msg& m : all) {
      size_t si = m.stream == LogStream::kStderr ? 1 : 0;
      if (!m.valid || m.ts <= 0 || m.ts < last[si]) continue;
      last[si] = m.ts;
      msgs.push_back(&m);
      // The engine never sends a message that ends one line and starts a partial one; the
      // cursor's exactness is only promised for what the engine sends.
      TimestampParser p2;
      TimeNs ts;
      size_t prefix = 0;
      (void)p2.parsePrefix(m.bytes.data(), m.bytes.size(), &ts, &prefix);
      std::string_view c = m.bytes.substr(prefix);
      if (c.size() >= opt.partialPieceBytes && !c.empty() && c.back() != '\n' &&
          c.find('\n') != std::string_view::npos) {
        resumable = false;
      }
    }
  } else {
    for (const Msg& m : all) msgs.push_back(&m);
  }

  LineAssembler a(opt);
  std::vector<Line> lines;
  const size_t cut = msgs.empty() ? 0 : ctl.b[2] % (msgs.size() + 1);
  LogCursor atCut;
  size_t linesAtCut = 0;
  run(a, msgs, opt.maxLineBytes, engineShapedOnly, lines, cut, &atCut, &linesAtCut);
  if (!resumable) return 0;

  // Resume from the cursor at the cut, the way the follower does after a reconnect.
  auto decoded = LogCursor::decode(atCut.encode());
  FUZZ_CHECK(decoded.isOk() && *decoded == atCut, "cut cursor does not round-trip");
  const TimeNs since = atCut.sinceNs(hugeMargin ? INT64_MAX : 0);
  std::vector<const Msg*> resent;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i]->ts >= since) {
      resent.push_back(msgs[i]);
    } else if (i >= cut) {
      return 0;  // cross-stream skew larger than the margin: outside the contract
    }
  }
  LineAssembler b(opt);
  b.reset(*decoded);
  std::vector<Line> resumed(lines.begin(), lines.begin() + static_cast<long>(linesAtCut));
  run(b, resent, opt.maxLineBytes, true, resumed);
  FUZZ_CHECK(resumed.size() == lines.size(), "resume from '%s' (cut %zu of %zu) gave %zu lines, "
             "straight run %zu", atCut.encode().c_str(), cut, msgs.size(), resumed.size(),
             lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    FUZZ_CHECK(resumed[i] == lines[i], "line %zu differs after resume from '%s': %s vs %s", i,
               atCut.encode().c_str(), show(resumed[i]).c_str(), show(lines[i]).c_str());
  }
  return 0;
}
