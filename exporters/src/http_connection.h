// A client connection of the HTTP server and the queue that hands it between the two kinds of
// threads that own it in turn. The reactor owns a connection while its request arrives (it
// answers Expect: 100-continue itself and reads the body) and between kept-alive requests; once
// the request is complete (head and body) it is pushed to the ready queue and a worker owns it
// while the route runs and writes what the socket takes at once. The connection is then given
// back and the reactor is woken (eventfd) to hold it again: to write the rest of a response the
// client has not read yet, and to wait for the next request when kept alive.
//
// The queue also counts the connections that are open and not being served (held by the
// reactor or ready for a worker): tryAdmit() refuses beyond maxWaiting (the server's 503).
//
// A Conn owns its Transport (plain or TLS; zc/exporters/transport.h) and its PeerLease (the
// per-peer cap, peer_limit.h): destroying it closes the connection and gives the peer's slot back.
//
// Thread-safety: every ConnectionQueue method may be called from any thread. A Conn belongs to
// whoever holds its unique_ptr.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "http_request_parser.h"
#include "peer_limit.h"
#include "poco_adapters.h"
#include "socket_io.h"
#include "zc/status.h"

namespace zc::exporters {

struct Conn {
  Conn(std::unique_ptr<Transport> t, PeerLease l)
      : io(std::move(t)), fd(io->fd()), lease(std::move(l)) {}
  std::unique_ptr<Transport> io;  // null once handed away (detachConnection)
  int fd;                         // io's descriptor, the reactor's key; stale once io is closed
  PeerLease lease;
  bool handshaking = false;  // TLS: the handshake runs in the reactor before any request byte
  std::string in;        // bytes read and not yet used (may hold the start of the next request)
  int served = 0;        // requests answered on this connection
  bool started = false;  // the first byte of the current request has arrived
  SteadyClock::time_point requestDeadline{};  // the whole request, once started
  SteadyClock::time_point readDeadline{};     // the next byte
  RequestHead head;                           // complete when the reactor hands it over
  RequestFraming framing;
  bool draining = false;  // an error response was sent; reading and dropping until EOF
  size_t drained = 0;
  bool continueSent = false;  // 100 Continue was sent for the current request
  // The rest of a response the socket did not take at once: the reactor writes it as the
  // client reads (a worker never waits for a slow or silent reader). Empty otherwise.
  std::string out;
  size_t outOff = 0;           // bytes of `out` already written
  bool closeAfterOut = false;  // the response ends the connection
  // The rest of a body made piece by piece (ServerResponse::setProducer): a worker makes the
  // next piece once `out` has gone out.
  ServerResponse::BodyProducer producer;
  bool writing() const noexcept { return !out.empty(); }
};

class ConnectionQueue {
 public:
  explicit ConnectionQueue(size_t maxWaiting) : maxWaiting_(maxWaiting) {}
  ~ConnectionQueue();
  ConnectionQueue(const ConnectionQueue&) = delete;
  ConnectionQueue& operator=(const ConnectionQueue&) = delete;

  // Creates the eventfd that wakes the reactor.
  Status open();
  // The reactor polls this descriptor; it becomes readable when a connection is given back or
  // when stop() was called.
  int wakeFd() const noexcept { return wakeFd_; }
  // Drains the wake descriptor and takes the connections given back. False once stopping.
  bool takeReturned(std::vector<std::unique_ptr<Conn>>& out);

  // Counts a new connection as waiting; false (nothing counted) at the cap.
  bool tryAdmit();
  // A waiting connection was closed by the reactor.
  void forget();
  // A complete request for the workers.
  void pushReady(std::unique_ptr<Conn> c);
  // Blocks until a request is ready (the connection stops counting as waiting) or stop() was
  // called (nullptr). `slot` is registered as active: stop() shuts its descriptor down.
  std::unique_ptr<Conn> popReady(ConnSlot& slot);
  // Ends the service of `c`: closes it, forgets it (detached: slot.fd < 0), or, with `keep`
  // and not stopping, gives it back to the reactor.
  void finish(std::unique_ptr<Conn> c, ConnSlot& slot, bool keep);
  // The server's mutex, guarding the ConnSlots of active connections.
  std::mutex& mutex() noexcept { return mu_; }

  // Wakes every thread to stop and shuts active connections down. Idempotent.
  void stop() noexcept;
  // After the threads joined: closes the connections still queued.
  void closeQueued() noexcept;

 private:
  void wake() noexcept;
  const size_t maxWaiting_;
  int wakeFd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Conn>> ready_;      // a complete request, waiting for a worker
  std::vector<std::unique_ptr<Conn>> returned_;  // kept alive by a worker, back to the reactor
  std::set<ConnSlot*> active_;                   // being served
  size_t waiting_ = 0;                           // held by the reactor or in ready_
  bool stopping_ = false;
};

}  // namespace zc::exporters
