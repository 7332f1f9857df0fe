#include "tls_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "test_support.h"

namespace zc::testing {
namespace {

std::string lastSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool run(const std::string& cmd, std::string* error) {
  std::string out;
  if (runCommand(cmd + " 2>&1", &out) == 0) return true;
  if (error) *error = cmd + ": " + out;
  return false;
}

// A key and a certificate signed by `caCert`/`caKey` (self-signed when both are empty).
bool makeCert(const std::string& dir, const std::string& name, const std::string& cn,
              const std::string& ext, const std::string& caCert, const std::string& caKey,
              std::string* error) {
  std::string key = dir + "/" + name + ".key", crt = dir + "/" + name + ".pem";
  std::string csr = dir + "/" + name + ".csr", extFile = dir + "/" + name + ".ext";
  if (!run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + key, error)) {
    return false;
  }
  if (caCert.empty()) {
    return run("openssl req -x509 -new -key " + key + " -subj /CN=" + cn +
                   " -days 2 -addext basicConstraints=critical,CA:TRUE -out " + crt,
               error);
  }
  if (!run("openssl req -new -key " + key + " -subj /CN=" + cn + " -out " + csr, error)) {
    return false;
  }
  if (runCommand("printf '%s\\n' '" + ext + "' > " + extFile) != 0) return false;
  return run("openssl x509 -req -in " + csr + " -CA " + caCert + " -CAkey " + caKey +
                 " -CAcreateserial -days 2 -extfile " + extFile + " -out " + crt,
             error);
}

}  // namespace

bool makeTestPki(const std::string& dir, TestPki& p, std::string* error) {
  p.dir = dir;
  auto path = [&](const std::string& n) { return dir + "/" + n; };
  const std::string serverExt = "subjectAltName=IP:127.0.0.1,DNS:localhost";
  const std::string clientExt = "extendedKeyUsage=clientAuth";
  if (!makeCert(dir, "ca", "test-ca", "", "", "", error)) return false;
  p.caCert = path("ca.pem");
  p.caKey = path("ca.key");
  if (!makeCert(dir, "server1", "server-1", serverExt, p.caCert, p.caKey, error)) return false;
  if (!makeCert(dir, "server2", "server-2", serverExt, p.caCert, p.caKey, error)) return false;
  if (!makeCert(dir, "client", "client-1", clientExt, p.caCert, p.caKey, error)) return false;
  if (!makeCert(dir, "rogue-ca", "rogue-ca", "", "", "", error)) return false;
  if (!makeCert(dir, "rogue-client", "rogue", clientExt, path("rogue-ca.pem"), path("rogue-ca.key"),
                error)) {
    return false;
  }
  if (!run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
               path("other.key"),
           error)) {
    return false;
  }
  p.serverCert = path("server1.pem");
  p.serverKey = path("server1.key");
  p.server2Cert = path("server2.pem");
  p.server2Key = path("server2.key");
  p.clientCert = path("client.pem");
  p.clientKey = path("client.key");
  p.otherKey = path("other.key");
  p.rogueClientCert = path("rogue-client.pem");
  p.rogueClientKey = path("rogue-client.key");
  return true;
}

HttpReply parseHttpReply(const std::string& bytes) {
  HttpReply r;
  size_t headEnd = bytes.find("\r\n\r\n");
  if (headEnd == std::string::npos || bytes.compare(0, 9, "HTTP/1.1 ") != 0) return r;
  size_t lineEnd = bytes.find("\r\n");
  int status = std::atoi(bytes.substr(9, 3).c_str());
  size_t pos = lineEnd + 2;
  while (pos < headEnd) {
    size_t eol = bytes.find("\r\n", pos);
    std::string line = bytes.substr(pos, eol - pos);
    pos = eol + 2;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    size_t v = line.find_first_not_of(' ', colon + 1);
    r.headers[name] = v == std::string::npos ? "" : line.substr(v);
  }
  r.body = bytes.substr(headEnd + 4);
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    size_t len = std::stoul(it->second);
    if (r.body.size() < len) return HttpReply();  // incomplete
    r.body.resize(len);
  }
  r.status = status;
  return r;
}

TlsReply tlsRequest(uint16_t port, const std::string& raw, const TlsClientOptions& o) {
  TlsReply out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx, o.caFile.c_str(), nullptr) != 1) {
    out.error = "CA: " + lastSslError();
    SSL_CTX_free(ctx);
    return out;
  }
  if (!o.certFile.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx, o.certFile.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx, o.keyFile.c_str(), SSL_FILETYPE_PEM) != 1)) {
    out.error = "client certificate: " + lastSslError();
    SSL_CTX_free(ctx);
    return out;
  }
  int fd = connectLoopback(port);
  if (fd < 0) {
    out.error = "connect failed";
    SSL_CTX_free(ctx);
    return out;
  }
  timeval tv{o.timeoutMs / 1000, (o.timeoutMs % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set1_host(ssl, "127.0.0.1");
  if (SSL_connect(ssl) != 1) {
    out.error = "handshake: " + lastSslError();
  } else {
    out.handshake = true;
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
      char cn[256] = {};
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
      out.peerCn = cn;
      X509_free(cert);
    }
    std::string bytes;
    if (!raw.empty() && SSL_write(ssl, raw.data(), static_cast<int>(raw.size())) <= 0) {
      out.error = "write: " + lastSslError();
    } else if (!raw.empty()) {
      char buf[16384];
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.timeoutMs);
      while (std::chrono::steady_clock::now() < deadline) {  // a stream never closes by itself
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
          // TLS 1.3 sends the client's certificate verdict after the handshake: a refused
          // client certificate shows up here.
          if (SSL_get_error(ssl, n) == SSL_ERROR_SSL) out.error = "read: " + lastSslError();
          break;
        }
        bytes.append(buf, static_cast<size_t>(n));
      }
      out.reply = parseHttpReply(bytes);
      out.raw = std::move(bytes);
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

TlsReply tlsGet(uint16_t port, const std::string& target, const TlsClientOptions& options,
                const std::string& extraHeaders) {
  return tlsRequest(port,
                    "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\n" + extraHeaders + "Connection: close\r\n\r\n",
                    options);
}

}  // namespace zc::testing
