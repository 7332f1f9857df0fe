// TLS for the HTTP server: the files it is configured with. The server (http_server.h) loads
// them when it binds and again on HttpServer::reloadTls(); the OpenSSL state itself is private
// to exporters/src (tls_context.*).
//
// Policy: TLS 1.2 at least; TLS 1.2 limited to ECDHE key exchange with AES-GCM or
// ChaCha20-Poly1305; TLS 1.3 with OpenSSL's default suites; no renegotiation, no compression.
// With a client CA, every client must present a certificate that chains to it (mutual TLS),
// otherwise the handshake fails.
#pragma once

#include <string>

namespace zc::exporters {

struct TlsFiles {
  std::string certFile;      // PEM certificate chain (leaf first); empty = plain HTTP
  std::string keyFile;       // PEM private key of the leaf (unencrypted)
  std::string clientCaFile;  // PEM CA certificates; non-empty = client certificates required
  bool enabled() const noexcept { return !certFile.empty(); }
};

}  // namespace zc::exporters
