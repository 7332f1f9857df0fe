#include "tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>

namespace zc::exporters {
namespace {

// Mozilla's "intermediate" TLS 1.2 suites: forward secrecy and AEAD only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr unsigned char kSessionContext[] = "zynd-collector";

// The last OpenSSL error as text (and clears the queue).
std::string opensslError() {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
    if (const char* r = ERR_reason_error_string(e)) out = r;
  }
  ERR_clear_error();
  return out.empty() ? "unknown OpenSSL error" : out;
}

// Whether `path` can be opened, with the reason when not (OpenSSL's own message for a missing
// file is less clear).
Status readable(const char* what, const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    return Status::invalidArgument(std::string(what) + " '" + path + "': cannot read (" +
                                   std::strerror(errno) + ")");
  }
  return Status::ok();
}

// --- the socket BIO: send() with MSG_NOSIGNAL, never blocking -----------------------------

int bioFd(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

int bioWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t n = ::send(bioFd(b), data, static_cast<size_t>(len), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
    return -1;
  }
}

int bioRead(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  for (;;) {
    ssize_t n = ::recv(bioFd(b), data, static_cast<size_t>(len), MSG_DONTWAIT);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
    return -1;
  }
}

long bioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "zc-socket");
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_ctrl(m, bioCtrl);
    BIO_meth_set_create(m, bioCreate);
    return m;
  }();
  return method;
}

// --- the transport ---------------------------------------------------------------------------

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, SSL* ssl) noexcept : Transport(fd), ssl_(ssl) {}
  ~TlsTransport() override { close(); }

  bool isTls() const noexcept override { return true; }

  IoResult handshake() noexcept override {
    int r = SSL_accept(ssl_);
    if (r == 1) return {IoResult::Kind::kDone, 0};
    return failure(r);
  }

  IoResult read(char* buf, size_t len) noexcept override {
    size_t n = 0;
    int r = SSL_read_ex(ssl_, buf, len, &n);
    if (r == 1) return {IoResult::Kind::kDone, n};
    return failure(r);
  }

  IoResult write(const char* buf, size_t len) noexcept override {
    size_t n = 0;
    int r = SSL_write_ex(ssl_, buf, len, &n);
    if (r == 1) return {IoResult::Kind::kDone, n};
    return failure(r);
  }

  size_t pending() const noexcept override {
    return ssl_ == nullptr ? 0 : static_cast<size_t>(SSL_pending(ssl_));
  }

  void shutdownWrite() noexcept override {
    if (fd_ < 0) return;
    if (!broken_ && SSL_is_init_finished(ssl_)) (void)SSL_shutdown(ssl_);  // close_notify
    ERR_clear_error();
    ::shutdown(fd_, SHUT_WR);
  }

  void close() noexcept override {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  IoResult failure(int r) noexcept {
    int e = SSL_get_error(ssl_, r);
    ERR_clear_error();  // per thread: leave nothing for the next connection on this thread
    switch (e) {
      case SSL_ERROR_WANT_READ:
        return {IoResult::Kind::kWantRead, 0};
      case SSL_ERROR_WANT_WRITE:
        return {IoResult::Kind::kWantWrite, 0};
      case SSL_ERROR_ZERO_RETURN:
        return {IoResult::Kind::kClosed, 0};
      default:
        // After SSL_ERROR_SYSCALL or SSL_ERROR_SSL no further TLS call may be made, not even
        // SSL_shutdown.
        broken_ = true;
        return {IoResult::Kind::kError, 0};
    }
  }

  SSL* ssl_;
  bool broken_ = false;
};

int noPassword(char*, int, int, void*) {
  return 0;  // an encrypted key is refused rather than prompting on a terminal
}

}  // namespace

Result<std::shared_ptr<const TlsContext>> TlsContext::load(const TlsFiles& files) {
  if (files.certFile.empty() || files.keyFile.empty()) {
    return Status::invalidArgument("a certificate and its private key are both required");
  }
  ZC_RETURN_IF_ERROR(readable("certificate", files.certFile));
  ZC_RETURN_IF_ERROR(readable("private key", files.keyFile));
  if (!files.clientCaFile.empty()) ZC_RETURN_IF_ERROR(readable("client CA", files.clientCaFile));

  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::internal("TLS: " + opensslError());
  auto fail = [&](std::string message) -> Status {
    SSL_CTX_free(ctx);
    return Status::invalidArgument(std::move(message));
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) return fail("TLS: " + opensslError());
  SSL_CTX_set_default_passwd_cb(ctx, noPassword);
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);

  if (SSL_CTX_use_certificate_chain_file(ctx, files.certFile.c_str()) != 1) {
    return fail("certificate '" + files.certFile + "': " + opensslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
      return fail("private key '" + files.keyFile + "': " + opensslError());
    }
  }
  if (ERR_peek_last_error() != 0 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return fail("private key '" + files.keyFile + "' does not match certificate '" +
                files.certFile + "'");
  }
  bool verify = !files.clientCaFile.empty();
  if (verify) {
    if (SSL_CTX_load_verify_locations(ctx, files.clientCaFile.c_str(), nullptr) != 1) {
      return fail("client CA '" + files.clientCaFile + "': " + opensslError());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.clientCaFile.c_str());
    if (names == nullptr) {
      return fail("client CA '" + files.clientCaFile + "': no certificate in it");
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes `names`
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx, verify));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<Transport> TlsContext::wrap(int fd) const {
  SSL* ssl = SSL_new(ctx_);
  BIO* bio = ssl == nullptr ? nullptr : BIO_new(socketMethod());
  if (bio == nullptr) {
    if (ssl != nullptr) SSL_free(ssl);
    ERR_clear_error();
    ::close(fd);
    return nullptr;
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  SSL_set_accept_state(ssl);
  return std::make_unique<TlsTransport>(fd, ssl);
}

}  // namespace zc::exporters
