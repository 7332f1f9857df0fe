// The OpenSSL server context built from TlsFiles (zc/exporters/tls.h) and the TLS Transport it
// wraps accepted sockets in. A context is immutable once loaded; a reload builds a new one and
// the server swaps the pointer, so connections keep the context they started with (each SSL
// holds a reference to its SSL_CTX).
//
// The TLS transport talks to its socket through a small BIO of our own that sends with
// MSG_NOSIGNAL (a peer that went away must not raise SIGPIPE in the daemon) and never blocks.
//
// Thread-safety: load() and wrap() may be called from any thread; a context may be shared.
#pragma once

#include <memory>
#include <mutex>

#include "zc/exporters/tls.h"
#include "zc/exporters/transport.h"
#include "zc/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace zc::exporters {

class TlsContext {
 public:
  // Reads and checks the files: each one readable PEM, the key matching the certificate, the
  // client CA (when given) holding at least one certificate. InvalidArgument naming the file
  // and the reason otherwise.
  static Result<std::shared_ptr<const TlsContext>> load(const TlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side TLS transport over `fd` (non-blocking); its handshake() is still to run.
  // OWNERSHIP: takes `fd` (closed here when nothing can be created: nullptr).
  std::unique_ptr<Transport> wrap(int fd) const;
  bool verifiesClients() const noexcept { return verifyClients_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verifyClients) noexcept
      : ctx_(ctx), verifyClients_(verifyClients) {}
  SSL_CTX* ctx_;
  bool verifyClients_;
};

}  // namespace zc::exporters

namespace zc::exporters {

// The context new connections are wrapped with; swapped by a reload. Thread-safe.
class TlsHolder {
 public:
  std::shared_ptr<const TlsContext> get() const {
    std::lock_guard lock(mu_);
    return ctx_;
  }
  void set(std::shared_ptr<const TlsContext> ctx) {
    std::lock_guard lock(mu_);
    ctx_ = std::move(ctx);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const TlsContext> ctx_;
};

}  // namespace zc::exporters
