// LineAssembler: engine log messages -> complete lines, with the resume cursor kept exactly.
//
// Input: one engine message at a time, "<RFC3339Nano> <content>", tagged with its stream (from a
// frame, or stdout for TTY containers). Rules:
//   - content ending in '\n' completes a line; inner '\n's split it into several lines that all
//     carry the message's timestamp; a trailing '\r' before a '\n' is stripped (CRLF). Exact
//     resume is guaranteed for the messages the json-file and local drivers write (one line or
//     one 16 KiB piece each); a message that both ends a line and starts a partial piece (never
//     sent by those drivers) may have its first line repeated after a resume.
//   - content without '\n' of at least `partialPieceBytes` (the engine splits lines longer than
//     16 KiB into such pieces) is a partial piece: the line continues with the stream's next
//     message, whose own timestamp prefix is dropped; the line keeps the first piece's timestamp.
//     Shorter content without '\n' is the last piece written before the container exited: it
//     completes the line (as does finish()).
//   - a line is capped at `maxLineBytes`: the head is kept, the line is marked truncated, the rest
//     up to its end is discarded.
//   - bytes are kept as they are (invalid UTF-8, control bytes).
// stdout and stderr are reassembled independently.
//
// Resume: reset(cursor) arms a per-stream filter that drops every message with ts < lastTs and
// the first `count` messages with ts == lastTs (the overlap the inclusive `since` re-sends).
// Gap rule: the engine re-sends the cursor's own message (since <= lastTs, inclusive), so when
// the first message of a stream at or after lastTs is stamped later than lastTs while messages
// stamped lastTs were still expected, the engine no longer holds what followed the cursor (its
// log was rotated away or lost): takeGap() then returns it once.
// cursor() is, after each message(), the cursor that is true after the lines emitted so far
// (messages of a pending partial line are not counted as delivered; only its first timestamp
// is kept so that a resume re-reads it whole).
//
// Thread-safety: none; one per follow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "log_cursor.h"
#include "timestamp_parser.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

class LineAssembler {
 public:
  struct Options {
    size_t maxLineBytes = 1 << 20;
    size_t partialPieceBytes = 16 * 1024;
  };
  explicit LineAssembler(Options options);

  // Continues after `cursor`: forgets pending pieces and, with `filter`, arms the resume filter.
  // Without it every message is taken (a reader that resumes by file position, which already
  // starts exactly after what was delivered), and the cursor still moves in step. The cursor's
  // file part is dropped (cursor() has none): only the file follower knows a file position.
  void reset(const LogCursor& cursor, bool filter = true);

  // One engine message (timestamp prefix included). Appends completed lines to `out`.
  // Corruption when the timestamp prefix is missing or malformed (nothing is consumed).
  Status message(LogStream stream, const char* p, size_t n, std::vector<plugin::RawLine>& out);
  // The same for a message whose timestamp is already parsed: `p[0..n)` is its content only.
  void messageAt(LogStream stream, TimeNs ts, const char* p, size_t n,
                 std::vector<plugin::RawLine>& out);

  // The log ended for good (the container stopped): pending partial lines are complete.
  void finish(std::vector<plugin::RawLine>& out);

  const LogCursor& cursor() const noexcept { return cursor_; }
  // Text bytes emitted since the last takeEmittedBytes() (for chunk sizing).
  size_t takeEmittedBytes() noexcept {
    size_t b = emittedBytes_;
    emittedBytes_ = 0;
    return b;
  }
  size_t emittedBytes() const noexcept { return emittedBytes_; }
  // Messages that passed the resume filter since construction (a progress indicator).
  uint64_t acceptedMessages() const noexcept { return accepted_; }
  bool hasPending() const noexcept { return streams_[0].pending || streams_[1].pending; }
  // The gap found since the last call (see the gap rule above), if any.
  std::optional<plugin::LogGap> takeGap() noexcept {
    auto g = gap_;
    gap_.reset();
    return g;
  }

 private:
  struct PerStream {
    // The pending partial line.
    bool pending = false;
    std::string text;
    bool truncated = false;
    TimeNs firstTs = 0;
    // Pieces of the pending line so far (its messages), for the cursor once it completes.
    TimeNs lastPieceTs = 0;
    uint32_t piecesAtLastTs = 0;
    // The resume filter.
    bool filtering = false;
    TimeNs dropBefore = 0;
    uint32_t dropEqual = 0;
  };

  static size_t index(LogStream s) noexcept { return s == LogStream::kStderr ? 1 : 0; }
  void append(PerStream& s, const char* p, size_t n);
  void completePending(PerStream& s, LogStream stream, bool stripCr,
                       std::vector<plugin::RawLine>& out);
  void emitWhole(LogStream stream, TimeNs ts, const char* p, size_t n, bool stripCr,
                 std::vector<plugin::RawLine>& out);
  void applyPieces(PerStream& s, LogStream stream);
  void applyMessage(LogStream stream, TimeNs ts);
  void addPiece(PerStream& s, TimeNs ts);

  Options options_;
  TimestampParser tsParser_;
  PerStream streams_[2];
  LogCursor cursor_;
  size_t emittedBytes_ = 0;
  uint64_t accepted_ = 0;
  std::optional<plugin::LogGap> gap_;
};

}  // namespace zc::docker
