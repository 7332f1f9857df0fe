// FakeEngine: a scripted HTTP/1.1 server on a temporary Unix socket that stands in for the Docker
// engine where the real one cannot be made to misbehave (stalls, garbage frames, connections cut
// in the middle of a frame, error frames). Each request runs the handler on its own thread.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zc::docker::testing {

class FakeConnection {
 public:
  FakeConnection(int fd, const std::atomic<bool>* stop) : fd_(fd), stop_(stop) {}
  // Writes raw bytes; false once the peer is gone.
  bool write(const std::string& bytes);
  // "HTTP/1.1 <status>" with chunked transfer encoding (or a Content-Length body).
  bool startChunked(int status, const std::string& extraHeaders = {});
  bool chunk(const std::string& data);
  bool endChunked();
  bool respond(int status, const std::string& body, const std::string& contentType = "application/json");
  // Blocks until the peer closes the connection or the engine stops (for hanging streams).
  void hangUntilClosed();

 private:
  int fd_;
  const std::atomic<bool>* stop_;
};

struct FakeRequest {
  std::string method;
  std::string target;  // path and query
  int index = 0;       // 0-based count of requests with the same path (query excluded)
};

class FakeEngine {
 public:
  using Handler = std::function<void(const FakeRequest&, FakeConnection&)>;
  // Listens on <dir>/docker.sock. /_ping is answered with Api-Version 1.41 unless the handler
  // is asked for it.
  FakeEngine(const std::string& dir, Handler handler, std::string apiVersion = "1.41");
  ~FakeEngine();
  const std::string& socketPath() const { return path_; }
  std::vector<FakeRequest> requests() const;
  int count(const std::string& pathPrefix) const;
  const std::atomic<bool>& stopping() const { return stop_; }

  // An 8-byte-header frame.
  static std::string frame(int stream, const std::string& payload);

 private:
  void acceptLoop();
  void serve(int fd);

  std::string path_;
  Handler handler_;
  std::string apiVersion_;
  int listenFd_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<FakeRequest> requests_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace zc::docker::testing
