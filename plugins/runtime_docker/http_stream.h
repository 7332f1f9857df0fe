// HTTP/1.1 over the engine's Unix socket for long-lived responses (log follows, events).
//
// HttpResponseReader is an incremental response parser (status line, headers, then a body that
// is chunked, Content-Length delimited, or read until close) fed arbitrary byte slices; body bytes
// are handed to a sink without copying. HttpStream owns one connection: it sends a request,
// waits for the response head, then reads the body with poll() so that every read has a timeout
// (stall detection) and can be interrupted at once by a StopSignal.
//
// Unary requests (inspect, list, stats, stop, remove) go through Poco (engine_client.h); this is
// only for the two streaming endpoints.
//
// Thread-safety: StopSignal is thread-safe; the others are used by one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zc/status.h"

namespace zc::docker {

// A one-shot stop flag that poll() can wait on (an eventfd). Thread-safe.
class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  void trigger() noexcept;
  bool stopped() const noexcept;
  int fd() const noexcept { return fd_; }
  // Sleeps up to `d`; returns true (at once) when stopped.
  bool waitFor(std::chrono::milliseconds d) const noexcept;

 private:
  int fd_ = -1;
};

class HttpResponseReader {
 public:
  // Feeds bytes of the response head. Sets *consumed to the bytes used (the head ends inside the
  // slice: the rest is body). Corruption on a malformed head or one over 64 KiB.
  Status feedHead(const char* p, size_t n, size_t* consumed);
  bool headComplete() const noexcept { return headDone_; }
  int status() const noexcept { return status_; }
  // Header value (name case-insensitive), "" when absent.
  std::string header(std::string_view name) const;

  // Feeds body bytes; calls sink(const char*, size_t) -> bool for each piece of body data (false
  // stops early: the rest of the slice is dropped). Corruption on bad chunked framing.
  template <typename Sink>
  Status feedBody(const char* p, size_t n, Sink&& sink);
  // The body is complete (chunked terminator or Content-Length reached).
  bool complete() const noexcept { return bodyState_ == BodyState::kDone; }
  // The peer closed the connection: OK when the body is complete or delimited by close.
  Status atEof() const;

 private:
  enum class BodyState : uint8_t {
    kUntilClose,
    kLength,
    kChunkSize,
    kChunkData,
    kChunkCr,
    kChunkLf,
    kTrailer,
    kDone
  };
  Status parseHead();
  Status chunkSizeLine();

  std::string head_;
  bool headDone_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  BodyState bodyState_ = BodyState::kUntilClose;
  uint64_t remaining_ = 0;
  std::string line_;  // chunk-size or trailer line being read
};

// A new connection to the Unix socket at `socketPath`, non-blocking once connected (a local
// connect blocks only while the listener's backlog is full). The caller owns the fd.
// InvalidArgument for a path too long, Unavailable when the socket cannot be reached.
Result<int> connectUnix(const std::string& socketPath);

// The bytes of "GET <target>" to the engine, on a connection used for this request only.
std::string httpGetRequest(std::string_view target);

// One HTTP request/response on its own connection to a Unix socket.
class HttpStream {
 public:
  enum class Outcome : uint8_t { kData, kEnd, kTimeout, kStopped };

  ~HttpStream();
  // Connects to `socketPath`, sends "GET <target>", and waits up to `headTimeout` for the
  // response head. Unavailable when the socket cannot be reached, Timeout, Aborted when `stop`
  // fires, Corruption on a malformed response.
  static Result<std::unique_ptr<HttpStream>> open(const std::string& socketPath,
                                                  std::string_view target,
                                                  std::chrono::milliseconds headTimeout,
                                                  const StopSignal* stop);

  const HttpResponseReader& response() const noexcept { return reader_; }

  // Waits up to `timeoutMs` (0: does not wait, not even a poll) for body bytes and passes them
  // to sink(const char*, size_t) -> bool.
  // kData: bytes were processed; kEnd: the body is complete or the peer closed a body delimited
  // by close; kTimeout; kStopped. Unavailable when the connection broke mid-body.
  template <typename Sink>
  Result<Outcome> readBody(Sink&& sink, int timeoutMs);
  // Reads the rest of a (short) error body, at most `max` bytes, for a message.
  std::string readErrorBody(size_t max, int timeoutMs);

 private:
  HttpStream(int fd, const StopSignal* stop);
  // Fills buf_ from the socket; same outcomes as readBody. Sets *n to the bytes read.
  Result<Outcome> fill(int timeoutMs, size_t* n);

  int fd_ = -1;
  const StopSignal* stop_ = nullptr;
  HttpResponseReader reader_;
  std::vector<char> buf_;
  size_t bufStart_ = 0, bufEnd_ = 0;  // body bytes received with the head, not yet fed
  bool eof_ = false;
};

template <typename Sink>
Status HttpResponseReader::feedBody(const char* p, size_t n, Sink&& sink) {
  size_t pos = 0;
  while (pos < n) {
    switch (bodyState_) {
      case BodyState::kUntilClose:
        sink(p + pos, n - pos);
        return Status::ok();
      case BodyState::kLength:
      case BodyState::kChunkData: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - pos));
        remaining_ -= take;
        const char* at = p + pos;
        pos += take;
        if (remaining_ == 0) {
          bodyState_ = bodyState_ == BodyState::kLength ? BodyState::kDone : BodyState::kChunkCr;
        }
        if (take > 0 && !sink(at, take)) return Status::ok();
        break;
      }
      case BodyState::kChunkCr:
        if (p[pos++] != '\r') return Status::corruption("http: chunk data not followed by CRLF");
        bodyState_ = BodyState::kChunkLf;
        break;
      case BodyState::kChunkLf:
        if (p[pos++] != '\n') return Status::corruption("http: chunk data not followed by CRLF");
        bodyState_ = BodyState::kChunkSize;
        break;
      case BodyState::kChunkSize:
      case BodyState::kTrailer: {
        const char* nl = static_cast<const char*>(std::memchr(p + pos, '\n', n - pos));
        size_t end = nl ? static_cast<size_t>(nl - p) : n;
        line_.append(p + pos, end - pos);
        if (line_.size() > 4096) return Status::corruption("http: chunk header line too long");
        pos = nl ? end + 1 : n;
        if (nl == nullptr) break;
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (bodyState_ == BodyState::kTrailer) {
          if (line_.empty()) bodyState_ = BodyState::kDone;
          line_.clear();
          break;
        }
        Status st = chunkSizeLine();
        if (!st.isOk()) return st;
        break;
      }
      case BodyState::kDone:
        return Status::ok();  // bytes after the response are ignored
    }
  }
  return Status::ok();
}

template <typename Sink>
Result<HttpStream::Outcome> HttpStream::readBody(Sink&& sink, int timeoutMs) {
  if (bufStart_ < bufEnd_) {
    size_t s = bufStart_, e = bufEnd_;
    bufStart_ = bufEnd_ = 0;
    Status st = reader_.feedBody(buf_.data() + s, e - s, sink);
    if (!st.isOk()) return st;
    return reader_.complete() ? Outcome::kEnd : Outcome::kData;
  }
  if (reader_.complete()) return Outcome::kEnd;
  size_t n = 0;
  auto r = fill(timeoutMs, &n);
  if (!r.isOk()) return r.status();
  if (r.value() != Outcome::kData) return r;
  Status st = reader_.feedBody(buf_.data(), n, sink);
  if (!st.isOk()) return st;
  return reader_.complete() ? Outcome::kEnd : Outcome::kData;
}

}  // namespace zc::docker
