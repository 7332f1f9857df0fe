// Transport: the byte stream of one client connection, plain TCP or TLS, behind one small
// non-blocking interface. Everything that reads or writes a client socket (the HTTP reactor,
// the workers' bounded writes, the lingering close, the SSE hub) goes through it, so TLS is a
// property of the connection and not of the code that serves it.
//
// Every call is non-blocking: the socket is in O_NONBLOCK mode and a call that cannot progress
// answers kWantRead or kWantWrite (wait for that readiness, then call again). A TLS write that
// answered kWantRead/kWantWrite must be retried with the same bytes (the buffer may move and may
// have grown at its end; see SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER); writes may be partial.
// A TLS transport may hold decrypted bytes the socket no longer shows as readable: check
// pending() before waiting for the socket.
//
// OWNERSHIP: a Transport owns its descriptor (and TLS state) and closes it when destroyed.
// Thread-safety: none; a connection, and so its transport, is used by one thread at a time
// (reactor, then a worker, then the reactor or the SSE hub). shutdownFd() alone may be called
// from another thread (it touches only the descriptor).
#pragma once

#include <cstddef>
#include <memory>

namespace zc::exporters {

struct IoResult {
  enum class Kind {
    kDone,       // `bytes` were read or written (read: > 0; handshake: complete)
    kWantRead,   // wait until the socket is readable, then call again
    kWantWrite,  // wait until the socket is writable, then call again
    kClosed,     // the peer closed (EOF or TLS close_notify)
    kError,      // a socket or TLS error; close the connection
  };
  Kind kind = Kind::kError;
  size_t bytes = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const noexcept { return fd_; }
  virtual bool isTls() const noexcept = 0;
  // Advances the TLS handshake; kDone at once for plain TCP.
  virtual IoResult handshake() noexcept = 0;
  // Reads up to `len` bytes (len > 0).
  virtual IoResult read(char* buf, size_t len) noexcept = 0;
  // Writes up to `len` bytes of `buf` (len > 0).
  virtual IoResult write(const char* buf, size_t len) noexcept = 0;
  // Decrypted bytes already buffered in user space (always 0 for plain TCP).
  virtual size_t pending() const noexcept { return 0; }
  // Ends the sending direction: TLS close_notify (best effort, never blocks), then
  // shutdown(SHUT_WR). The descriptor stays open for a lingering read.
  virtual void shutdownWrite() noexcept = 0;
  // Closes now (idempotent); fd() reads -1 afterwards.
  virtual void close() noexcept = 0;

 protected:
  explicit Transport(int fd) noexcept : fd_(fd) {}
  int fd_;
};

// A plain TCP transport over `fd` (already non-blocking). OWNERSHIP: takes `fd`.
std::unique_ptr<Transport> makePlainTransport(int fd);

}  // namespace zc::exporters
