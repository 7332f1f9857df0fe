#include "log_stream_parser.h"

#include <algorithm>

namespace zc::docker {

namespace {
// The engine's bound on one frame: a piece of a long line plus its timestamp; 64 KiB of slack
// over the line cap keeps any engine's larger pieces acceptable.
size_t frameBound(const LogStreamParser::Limits& l) {
  return l.maxLineBytes + 64 * 1024;
}
constexpr size_t kMaxErrorBody = 4096;
}  // namespace

LogStreamParser::LogStreamParser(LineAssembler& assembler, std::vector<plugin::RawLine>& lines,
                                 Limits limits, bool containerTty)
    : assembler_(assembler),
      lines_(lines),
      limits_(limits),
      containerTty_(containerTty),
      decoder_(frameBound(limits)),
      splitter_(limits.partialPieceBytes) {}

Status LogStreamParser::feed(const char* p, size_t n, const DueFn& due) {
  if (!bad_.isOk()) return bad_;
  if (stopped_) return Status::ok();
  size_t used = 0;
  if (!reader_.headComplete()) {
    bad_ = reader_.feedHead(p, n, &used);
    if (!bad_.isOk()) return bad_;
    if (!reader_.headComplete()) return Status::ok();
    tty_ = containerTty_ || reader_.header("Content-Type") == "application/vnd.docker.raw-stream";
  }
  if (used == n) return Status::ok();
  return body(p + used, n - used, due);
}

bool LogStreamParser::message(LogStream s, const char* p, size_t n, const DueFn& due) {
  Status st = assembler_.message(s, p, n, lines_);
  if (!st.isOk()) {
    bad_ = st;
    return false;
  }
  if (lines_.size() >= std::max<size_t>(1, limits_.chunkMaxLines) ||
      assembler_.emittedBytes() >= std::max<size_t>(1, limits_.chunkMaxBytes)) {
    if (!due()) {
      stopped_ = true;
      return false;
    }
  }
  return true;
}

Status LogStreamParser::body(const char* p, size_t n, const DueFn& due) {
  if (reader_.status() != 200) {
    return reader_.feedBody(p, n, [&](const char* b, size_t k) {
      errorBody_.append(b, std::min(k, kMaxErrorBody - std::min(kMaxErrorBody, errorBody_.size())));
      return true;
    });
  }
  auto onFrame = [&](FrameStream fs, const char* b, size_t k) {
    switch (fs) {
      case FrameStream::kStdout:
        return message(LogStream::kStdout, b, k, due);
      case FrameStream::kStderr:
        return message(LogStream::kStderr, b, k, due);
      case FrameStream::kEngineError:
        bad_ = Status::unavailable("engine error in the log stream: " +
                                   std::string(b, std::min<size_t>(k, 300)));
        return false;
      case FrameStream::kStdin:
        return true;
    }
    return true;
  };
  auto onRaw = [&](const char* b, size_t k) { return message(LogStream::kStdout, b, k, due); };
  auto onBody = [&](const char* b, size_t k) {
    Status st = tty_ ? splitter_.feed(b, k, onRaw) : decoder_.feed(b, k, onFrame);
    if (!st.isOk() && bad_.isOk()) bad_ = st;
    return bad_.isOk() && !stopped_;
  };
  Status st = reader_.feedBody(p, n, onBody);
  if (!st.isOk() && bad_.isOk()) bad_ = st;
  return bad_;
}

Status LogStreamParser::tail(const DueFn& due) {
  if (!bad_.isOk()) return bad_;
  if (tailDone_ || stopped_ || reader_.status() != 200) return Status::ok();
  tailDone_ = true;
  if (tty_) {
    auto onRaw = [&](const char* b, size_t k) { return message(LogStream::kStdout, b, k, due); };
    Status st = splitter_.finish(onRaw);
    if (!st.isOk() && bad_.isOk()) bad_ = st;
  } else if (!decoder_.idle()) {
    bad_ = Status::unavailable("log stream ended inside a frame");
  }
  return bad_;
}

Status LogStreamParser::atEof(const DueFn& due) {
  if (!bad_.isOk()) return bad_;
  Status st = reader_.atEof();
  if (!st.isOk()) return st;
  return tail(due);
}

Status LogStreamParser::finish(const DueFn& due) {
  return tail(due);
}

}  // namespace zc::docker
