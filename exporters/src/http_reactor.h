// The HTTP server's reactor: ONE thread (epoll) that accepts every connection and holds it while
// its request arrives (answering Expect: 100-continue and reading the body), while the rest of
// a response goes out to a client that reads slowly or not at all, and between kept-alive
// requests, so slow or silent clients never hold a worker. It parses what arrives (http_request_parser.h), enforces the read, request and
// keep-alive deadlines, answers malformed, oversized and late requests itself (JSON error, then a
// lingering close), refuses connections beyond maxQueued or beyond maxConnectionsPerPeer from one
// address with 503, and pushes each complete request to the ConnectionQueue for the workers.
// Over TLS it also runs each connection's handshake, non-blocking, under the same read and
// request deadlines as a request (a silent or slow TLS client costs a buffer, never a worker);
// a failed or late handshake is closed without a response.
//
// Thread-safety: start() and join() from the thread that owns the server; everything else runs
// on the reactor thread. It stops when the queue is stopped (its eventfd wakes it) and closes the
// connections it holds before returning.
#pragma once

#include <map>
#include <memory>
#include <thread>

#include "http_connection.h"
#include "peer_limit.h"
#include "tls_context.h"
#include "zc/exporters/http_server.h"

namespace zc::exporters {

class Reactor {
 public:
  // OWNERSHIP: `options`, `queue`, `peers` and `tls` must outlive the reactor; `listenFd` stays
  // the caller's. `tls` holds no context for plain HTTP.
  Reactor(const HttpServerOptions& options, ConnectionQueue& queue, int listenFd, PeerLimit& peers,
          const TlsHolder& tls);
  ~Reactor();  // join() + closes what it still holds
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Creates the epoll set and starts the thread.
  Status start();
  void join() noexcept;

 private:
  void loop();
  void acceptOne();
  // Refuses a connection that was not admitted: 503 over plain HTTP, a bare close over TLS.
  void refuse(int fd, bool tls);
  // Advances the TLS handshake of `fd`; once done, reads and parses what followed it.
  void handshake(int fd);
  void watch(int fd, bool wantWrite);
  // Registers `c`; its next byte must arrive within `waitMs`.
  void hold(std::unique_ptr<Conn> c, int waitMs);
  // Reads what is there without blocking; false on EOF or error (the connection is to be closed).
  bool readFrom(Conn& c);
  // Parses what `fd` holds; hands it to the workers when its request is complete (head and
  // body; sends 100 Continue first when the client waits for it) or refuses it.
  void advance(int fd);
  // Writes more of the response a worker left in c.out, as far as the socket takes it; once
  // written, closes (lingering) or waits for the next request. Progress must come within
  // readTimeoutMs or the connection is dropped.
  void flush(int fd);
  // A kept-alive connection between two requests: reads what TLS holds, parses what is there.
  void awaitNext(int fd);
  void handOff(int fd);
  // Answers an error without a worker: the response (small: it fits the socket buffer), then a
  // lingering close here, so that the client reads it before the connection goes.
  void reject(int fd, const RequestError& error);
  // Reads and drops input of a refused connection; false when it is to be closed.
  bool discardInput(Conn& c);
  void closeHeld(int fd);
  void expire();
  int nextTimeoutMs() const;

  const HttpServerOptions& opts_;
  const RequestLimits limits_;
  ConnectionQueue& queue_;
  const int listenFd_;
  PeerLimit& peers_;
  const TlsHolder& tls_;
  int epollFd_ = -1;
  std::thread thread_;
  std::map<int, std::unique_ptr<Conn>> held_;  // reactor thread only
};

}  // namespace zc::exporters
