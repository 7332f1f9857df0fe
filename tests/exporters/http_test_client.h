// A deliberately small HTTP/1.1 and SSE client over raw loopback sockets, so tests can send exact
// bytes (malformed requests included) and see exactly what the server answers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zc::testing {

struct HttpReply {
  int status = 0;                              // 0: no (complete) response
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& lowerName) const {
    auto it = headers.find(lowerName);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A connected blocking socket to 127.0.0.1:port, or -1. `rcvbuf` > 0 sets SO_RCVBUF first.
int connectLoopback(uint16_t port, int rcvbuf = 0);
// The same from another loopback source address `from` (e.g. "127.0.0.2": another peer for the
// server's per-peer cap); nullptr = the default source.
int connectLoopbackFrom(const char* from, uint16_t port, int rcvbuf = 0);
// Sends `raw` on a fresh connection and reads one response.
HttpReply rawRequest(uint16_t port, const std::string& raw, int timeoutMs = 5000);
HttpReply httpRequest(uint16_t port, const std::string& method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
bool isValidUtf8(std::string_view s);
// A free loopback TCP port (bound then released).
uint16_t freeLoopbackPort();

struct SseEvent {
  std::string event;  // "message" when the block had no event field
  std::string id;
  std::string data;
};

class SseClient {
 public:
  SseClient() = default;
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Connects, sends the GET and reads the response head. False when no head arrived in time.
  bool open(uint16_t port, const std::string& target, std::optional<uint64_t> lastEventId = {},
            int rcvbuf = 0, int timeoutMs = 5000);
  int status() const { return reply_.status; }
  const HttpReply& head() const { return reply_; }
  // The next event; nullopt on timeout or end of stream (see eof()).
  std::optional<SseEvent> next(int timeoutMs = 5000);
  // Reads everything that arrives until `timeoutMs` passes or the stream ends.
  std::vector<SseEvent> drain(int timeoutMs);
  bool eof() const { return eof_; }
  // Lines seen so far that were comments, and the last `retry:` value ("" if none).
  size_t comments() const { return comments_; }
  const std::string& retry() const { return retry_; }
  // The body bytes received so far (for checking raw framing).
  const std::string& rawBody() const { return raw_; }
  void close();
  int fd() const { return fd_; }

 private:
  bool readMore(int timeoutMs);
  int fd_ = -1;
  HttpReply reply_;
  std::string buf_;  // unparsed body bytes
  std::string raw_;
  bool eof_ = false;
  size_t comments_ = 0;
  std::string retry_;
};

}  // namespace zc::testing
