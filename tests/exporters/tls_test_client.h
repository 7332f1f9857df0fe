// TLS for the exporter tests and benchmarks: throwaway certificates made with the `openssl` CLI
// in a temporary folder, and a small blocking TLS client (OpenSSL) that sends one raw request and
// reads the response until the server closes.
#pragma once

#include <cstdint>
#include <string>

#include "http_test_client.h"

namespace zc::testing {

// A CA, a server certificate for 127.0.0.1/localhost signed by it (CN "server-1"), a second
// server certificate (CN "server-2", for reloads), a client certificate signed by the CA, a key
// that matches none of them, and a second CA that signed nothing the server trusts (plus a client
// certificate from it). Paths under `dir`.
struct TestPki {
  std::string dir;
  std::string caCert, caKey;
  std::string serverCert, serverKey;
  std::string server2Cert, server2Key;
  std::string clientCert, clientKey;
  std::string otherKey;
  std::string rogueClientCert, rogueClientKey;
};
// Generates everything with `openssl`; false (with `error`) when the CLI fails.
bool makeTestPki(const std::string& dir, TestPki& pki, std::string* error = nullptr);

struct TlsClientOptions {
  std::string caFile;    // verify the server against this CA (required)
  std::string certFile;  // client certificate (mutual TLS); empty = none
  std::string keyFile;
  int timeoutMs = 5000;
};

struct TlsReply {
  bool handshake = false;  // the TLS handshake succeeded
  std::string error;       // why not, or why the exchange failed
  std::string peerCn;      // the server certificate's common name
  HttpReply reply;         // the first response; status 0 when no complete one arrived
  std::string raw;         // every byte received
};

// Connects to 127.0.0.1:port, runs the handshake, sends `raw` (nothing when empty) and reads
// until the server closes or options.timeoutMs has passed since the handshake.
TlsReply tlsRequest(uint16_t port, const std::string& raw, const TlsClientOptions& options);
// GET `target` with Connection: close.
TlsReply tlsGet(uint16_t port, const std::string& target, const TlsClientOptions& options,
                const std::string& extraHeaders = "");

// Parses a complete HTTP/1.1 response (head + Content-Length body or until the end).
HttpReply parseHttpReply(const std::string& bytes);

}  // namespace zc::testing
