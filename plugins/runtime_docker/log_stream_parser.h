// LogStreamParser: one response of GET /containers/{id}/logs, parsed incrementally from whatever
// slices the socket gives (the event-driven follower's read path; no blocking, no socket).
//
// Bytes go through the HTTP response reader (status line, headers, chunked / length / until-close
// body), then the engine's frame decoder (or, for TTY containers, the raw stream splitter), then
// the follow's LineAssembler, which appends complete lines to the follow's pending vector. When
// the pending lines reach `chunkMaxLines` or the assembler's emitted bytes `chunkMaxBytes`,
// `due()` is called in the middle of feed(): the caller hands a chunk to its consumer there (so a
// chunk ends on an engine-message boundary) and returns false to abandon the response.
//
// A response other than 200 is not decoded: its body (at most 4 KiB) is kept for the message.
// Errors (malformed HTTP, bad frame, engine error frame, malformed timestamp) are sticky: the
// response is unusable and the follow reopens from its cursor.
//
// OWNERSHIP: borrows the assembler and the pending-lines vector (they outlive the response).
// Thread-safety: none; one per response.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "frame_decoder.h"
#include "http_stream.h"
#include "line_assembler.h"
#include "raw_stream_splitter.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

class LogStreamParser {
 public:
  struct Limits {
    size_t maxLineBytes = 1 << 20;
    size_t partialPieceBytes = 16 * 1024;
    size_t chunkMaxLines = 4000;
    size_t chunkMaxBytes = 1 << 20;
  };
  // A chunk is due; returns false to stop feeding (the consumer ended, or a stop was asked).
  using DueFn = std::function<bool()>;

  LogStreamParser(LineAssembler& assembler, std::vector<plugin::RawLine>& lines, Limits limits,
                  bool containerTty);

  // Feeds received bytes. OK also when due() stopped the feed (see stoppedEarly()).
  Status feed(const char* p, size_t n, const DueFn& due);
  // The peer closed the connection. OK when the response ended cleanly (a body delimited by
  // close, or a complete one); a TTY stream's last message is then passed on. Unavailable when it
  // was cut (before the head, inside a chunk or a frame).
  Status atEof(const DueFn& due);
  // The chunked body ended (terminator seen): same checks as atEof().
  Status finish(const DueFn& due);

  bool headComplete() const noexcept { return reader_.headComplete(); }
  int status() const noexcept { return reader_.status(); }
  bool tty() const noexcept { return tty_; }
  bool bodyComplete() const noexcept { return reader_.complete(); }
  bool stoppedEarly() const noexcept { return stopped_; }
  // The body of a response other than 200 (at most 4 KiB).
  const std::string& errorBody() const noexcept { return errorBody_; }

 private:
  Status body(const char* p, size_t n, const DueFn& due);
  bool message(LogStream s, const char* p, size_t n, const DueFn& due);
  Status tail(const DueFn& due);

  LineAssembler& assembler_;
  std::vector<plugin::RawLine>& lines_;
  const Limits limits_;
  const bool containerTty_;
  HttpResponseReader reader_;
  FrameDecoder decoder_;
  RawStreamSplitter splitter_;
  bool tty_ = false;
  bool stopped_ = false;
  bool tailDone_ = false;
  Status bad_;
  std::string errorBody_;
};

}  // namespace zc::docker
