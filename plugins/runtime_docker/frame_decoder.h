// FrameDecoder: the Docker engine's multiplexed log stream (non-TTY containers), incrementally.
//
// Each frame is an 8-byte header (byte 0: stream 0 stdin, 1 stdout, 2 stderr, 3 engine error;
// bytes 1-3 zero; bytes 4-7 payload length, big-endian) and its payload. feed() takes arbitrary
// slices of the stream and hands every whole frame to the sink, in order. A frame that lies
// inside one slice is passed without copying; only a frame split across slices is assembled in an
// internal buffer (reused). Protocol errors (bogus stream type, non-zero padding, a length over
// the bound) are sticky: the stream is unusable afterwards and must be reopened.
//
// Thread-safety: none (one decoder per stream reader).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "zc/status.h"

namespace zc::docker {

enum class FrameStream : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kEngineError = 3 };

class FrameDecoder {
 public:
  // `maxPayload`: frames longer than this are a protocol error.
  explicit FrameDecoder(size_t maxPayload) : maxPayload_(maxPayload) {}

  // Feeds `n` bytes. For each whole frame calls `sink(FrameStream, const char* payload, size_t
  // len)`, which returns true to go on or false to stop early (then feed() returns OK and
  // *consumed tells how many bytes were used; call feed() again with the rest). Returns
  // Corruption on a protocol error.
  template <typename Sink>
  Status feed(const char* data, size_t n, Sink&& sink, size_t* consumed = nullptr);

  // True when no partial frame is buffered (a clean place for the stream to end).
  bool idle() const noexcept { return headerHave_ == 0 && !inPayload_; }
  // Forgets any partial frame and a previous error.
  void reset() noexcept {
    headerHave_ = 0;
    inPayload_ = false;
    payload_.clear();
    error_.clear();
  }

 private:
  Status checkHeader();

  size_t maxPayload_;
  unsigned char header_[8] = {};
  size_t headerHave_ = 0;
  bool inPayload_ = false;  // header complete, payload being assembled in payload_
  FrameStream stream_ = FrameStream::kStdout;
  size_t need_ = 0;  // payload length of the current frame
  std::string payload_;
  std::string error_;
};

template <typename Sink>
Status FrameDecoder::feed(const char* data, size_t n, Sink&& sink, size_t* consumed) {
  if (!error_.empty()) return Status::corruption(error_);
  size_t pos = 0;
  auto done = [&](size_t at) {
    if (consumed) *consumed = at;
    return Status::ok();
  };
  while (pos < n) {
    if (inPayload_) {
      size_t take = std::min(need_ - payload_.size(), n - pos);
      payload_.append(data + pos, take);
      pos += take;
      if (payload_.size() < need_) break;
      inPayload_ = false;
      if (!sink(stream_, payload_.data(), payload_.size())) return done(pos);
      continue;
    }
    if (headerHave_ == 0 && n - pos >= 8) {
      // Fast path: header (and often the payload) entirely in this slice.
      std::memcpy(header_, data + pos, 8);
      pos += 8;
      headerHave_ = 8;
    } else {
      size_t take = std::min<size_t>(8 - headerHave_, n - pos);
      std::memcpy(header_ + headerHave_, data + pos, take);
      headerHave_ += take;
      pos += take;
      if (headerHave_ < 8) break;
    }
    Status st = checkHeader();
    if (!st.isOk()) return st;
    headerHave_ = 0;
    if (n - pos >= need_) {
      const char* p = data + pos;
      pos += need_;
      if (!sink(stream_, p, need_)) return done(pos);
    } else {
      payload_.clear();
      if (payload_.capacity() < need_) payload_.reserve(need_);
      inPayload_ = true;
    }
  }
  return done(pos);
}

}  // namespace zc::docker
