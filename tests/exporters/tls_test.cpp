// TLS and mutual TLS on the exporter stack (real sockets, real OpenSSL on both sides, `curl`
// where it is there), and the per-peer connection cap: a certificate-verified GET with curl and
// with the test client, SSE over TLS, plain HTTP to the TLS port refused, client certificates
// required and checked, reload of a new certificate (and a bad pair keeping the old one),
// start-up errors, silent and slow TLS clients not delaying /healthz, and the per-peer 503.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "exporter_fixture.h"
#include "zc/exporters/access.h"
#include "zc/exporters/tokens.h"
#include "test_support.h"
#include "tls_test_client.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::TestPki;
using zc::testing::TlsClientOptions;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool curlPresent() {
  return zc::testing::runCommand("command -v curl >/dev/null 2>&1") == 0;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(zc::testing::makeTestPki(dir_.path(), pki_, &error)) << error;
  }

  zc::exporters::HttpServerOptions tlsOptions(bool mutual = false) const {
    zc::exporters::HttpServerOptions o;
    o.tls = {pki_.serverCert, pki_.serverKey, mutual ? pki_.caCert : std::string()};
    return o;
  }
  TlsClientOptions client(bool withCert = false) const {
    TlsClientOptions o;
    o.caFile = pki_.caCert;
    if (withCert) {
      o.certFile = pki_.clientCert;
      o.keyFile = pki_.clientKey;
    }
    return o;
  }

  zc::testing::TempDir dir_;
  TestPki pki_;
};

TEST_F(TlsTest, CurlWithTheCaGetsHealthzAndTheRequestKnowsItIsTls) {
  ExporterStack stack({}, tlsOptions());
  auto r = zc::testing::tlsGet(stack.port(), "/healthz", client());
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.peerCn, "server-1");
  EXPECT_EQ(r.reply.status, 200) << r.error;
  EXPECT_TRUE(contains(r.reply.body, "\"status\"")) << r.reply.body;
  if (!curlPresent()) GTEST_SKIP() << "curl not on PATH";
  std::string out;
  std::string url = "https://127.0.0.1:" + std::to_string(stack.port()) + "/healthz";
  EXPECT_EQ(
      zc::testing::runCommand("curl -sS --max-time 5 --cacert " + pki_.caCert + " " + url, &out),
      0);
  EXPECT_TRUE(contains(out, "\"status\"")) << out;
  // Without the CA the certificate is not trusted; TLS 1.1 and older are refused.
  EXPECT_NE(zc::testing::runCommand("curl -sS --max-time 5 " + url + " 2>/dev/null"), 0);
  EXPECT_NE(zc::testing::runCommand("curl -sS --max-time 5 --cacert " + pki_.caCert +
                                    " --tlsv1.0 --tls-max 1.1 " + url + " 2>/dev/null"),
            0);
}

TEST_F(TlsTest, RoutesCanAskWhetherTheRequestCameOverTls) {
  for (bool tls : {false, true}) {
    zc::exporters::HttpServerOptions o = tls ? tlsOptions() : zc::exporters::HttpServerOptions();
    o.host = "127.0.0.1";
    o.port = 0;
    zc::exporters::HttpServer server(o);
    server.route("GET", "/tls", [](auto& req, auto& resp, const zc::exporters::PathParams&) {
      zc::exporters::sendJsonText(resp, 200, zc::exporters::isTls(req) ? "true" : "false");
    });
    ASSERT_TRUE(server.start().isOk());
    std::string body = tls ? zc::testing::tlsGet(server.port(), "/tls", client()).reply.body
                           : zc::testing::httpRequest(server.port(), "GET", "/tls").body;
    EXPECT_EQ(body, tls ? "true" : "false");
    server.stop();
  }
}

// The pages' session cookie says Secure when the login came over TLS (and only then: see
// SessionApiTest for plain HTTP).
TEST_F(TlsTest, ALoginOverTlsGetsASecureSessionCookie) {
  zc::exporters::AccessOptions ao;
  ao.tokensFile = dir_.path() + "/tokens";
  ASSERT_TRUE(zc::exporters::writeTokensFile(
                  ao.tokensFile, {{"reader", zc::exporters::TokenScope::kRead,
                                   zc::exporters::sha256Hex("zct_read_secret")}})
                  .isOk());
  ao.auditLog = dir_.path() + "/audit.log";
  ao.allowedHosts = {"127.0.0.1:1"};
  auto access = zc::exporters::AccessControl::create(ao);
  ASSERT_TRUE(access.isOk()) << access.status().toString();
  zc::exporters::ExporterOptions eo;
  eo.access = access->get();
  ExporterStack stack(eo, tlsOptions());
  const std::string body = R"({"token":"zct_read_secret"})";
  auto r = zc::testing::tlsRequest(
      stack.port(),
      "POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body,
      client());
  ASSERT_TRUE(r.handshake) << r.error;
  ASSERT_EQ(r.reply.status, 200) << r.reply.body;
  const std::string set = r.reply.header("set-cookie");
  EXPECT_NE(set.find("; HttpOnly; SameSite=Strict; Secure"), std::string::npos) << set;
}

TEST_F(TlsTest, KeepAliveRequestsShareOneTlsConnection) {
  ExporterStack stack({}, tlsOptions());
  std::string two =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
      "GET /api/ports HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  auto r = zc::testing::tlsRequest(stack.port(), two, client());
  ASSERT_TRUE(r.handshake) << r.error;
  EXPECT_EQ(r.reply.status, 200);
  // Both responses arrived on the one connection.
  size_t second = r.raw.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << r.raw;
  EXPECT_TRUE(contains(r.raw.substr(second), "\"ports\"")) << r.raw;
}

TEST_F(TlsTest, SseStreamDeliversLinesOverTls) {
  zc::exporters::ExporterOptions eo;
  eo.sse.heartbeatMs = 200;
  ExporterStack stack(eo, tlsOptions());
  stack.api->addDeployment("d1");
  stack.api->appendLines("d1", {"one", "two", "three"});
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    stack.api->appendLines("d1", {"four-live"});
  });
  auto opts = client();
  opts.timeoutMs = 1500;  // the stream stays open: read until the timeout
  auto r = zc::testing::tlsRequest(
      stack.port(), "GET /api/deployments/d1/logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      opts);
  later.join();
  ASSERT_TRUE(r.handshake) << r.error;
  // No Content-Length: the parser keeps everything after the head.
  EXPECT_EQ(r.reply.status, 200) << r.error;
  EXPECT_EQ(r.reply.header("content-type"), "text/event-stream");
  EXPECT_TRUE(contains(r.reply.body, "id: 3\n")) << r.reply.body;
  EXPECT_TRUE(contains(r.reply.body, "four-live")) << r.reply.body;
}

TEST_F(TlsTest, PlainHttpToTheTlsPortIsRefused) {
  ExporterStack stack({}, tlsOptions());
  auto r = zc::testing::rawRequest(stack.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                                   3000);
  EXPECT_EQ(r.status, 0) << r.body;
  // The server still serves TLS afterwards.
  EXPECT_EQ(zc::testing::tlsGet(stack.port(), "/healthz", client()).reply.status, 200);
}

TEST_F(TlsTest, MutualTlsRefusesClientsWithoutAValidCertificate) {
  ExporterStack stack({}, tlsOptions(/*mutual=*/true));
  auto without = zc::testing::tlsGet(stack.port(), "/healthz", client(false));
  EXPECT_EQ(without.reply.status, 0) << without.reply.body;
  TlsClientOptions rogue = client(false);
  rogue.certFile = pki_.rogueClientCert;
  rogue.keyFile = pki_.rogueClientKey;
  auto bad = zc::testing::tlsGet(stack.port(), "/healthz", rogue);
  EXPECT_EQ(bad.reply.status, 0) << bad.reply.body;
  auto with = zc::testing::tlsGet(stack.port(), "/healthz", client(true));
  ASSERT_TRUE(with.handshake) << with.error;
  EXPECT_EQ(with.reply.status, 200) << with.error;
  if (!curlPresent()) GTEST_SKIP() << "curl not on PATH";
  std::string url = "https://127.0.0.1:" + std::to_string(stack.port()) + "/healthz";
  std::string base = "curl -sS --max-time 5 --cacert " + pki_.caCert;
  EXPECT_NE(zc::testing::runCommand(base + " " + url + " 2>/dev/null"), 0);
  std::string out;
  EXPECT_EQ(zc::testing::runCommand(
                base + " --cert " + pki_.clientCert + " --key " + pki_.clientKey + " " + url, &out),
            0);
  EXPECT_TRUE(contains(out, "\"status\"")) << out;
}

TEST_F(TlsTest, ReloadServesTheNewCertificateAndABadPairKeepsTheOld) {
  // The server reads the files named in its options: copy the first pair there.
  std::string cert = dir_.path() + "/live.pem", key = dir_.path() + "/live.key";
  std::filesystem::copy_file(pki_.serverCert, cert);
  std::filesystem::copy_file(pki_.serverKey, key);
  zc::exporters::HttpServerOptions o;
  o.tls = {cert, key, ""};
  ExporterStack stack({}, o);
  EXPECT_EQ(zc::testing::tlsGet(stack.port(), "/healthz", client()).peerCn, "server-1");

  auto over = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(pki_.server2Cert, cert, over);
  std::filesystem::copy_file(pki_.server2Key, key, over);
  ASSERT_TRUE(stack.server->reloadTls().isOk());
  auto r = zc::testing::tlsGet(stack.port(), "/healthz", client());
  EXPECT_EQ(r.peerCn, "server-2");
  EXPECT_EQ(r.reply.status, 200);

  // A key that does not match: refused, the running certificate stays.
  std::filesystem::copy_file(pki_.otherKey, key, over);
  zc::Status st = stack.server->reloadTls();
  EXPECT_EQ(st.code(), zc::Status::Code::kInvalidArgument);
  EXPECT_TRUE(contains(st.message(), "does not match")) << st.message();
  EXPECT_EQ(zc::testing::tlsGet(stack.port(), "/healthz", client()).peerCn, "server-2");
}

TEST_F(TlsTest, BindRefusesMissingMismatchedOrHalfGivenFiles) {
  auto bindWith = [](zc::exporters::TlsFiles files) {
    zc::exporters::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.tls = std::move(files);
    zc::exporters::HttpServer server(o);
    return server.bind();
  };
  zc::Status missing = bindWith({dir_.path() + "/nope.pem", pki_.serverKey, ""});
  EXPECT_EQ(missing.code(), zc::Status::Code::kInvalidArgument);
  EXPECT_TRUE(contains(missing.message(), "nope.pem")) << missing.message();
  zc::Status mismatch = bindWith({pki_.serverCert, pki_.otherKey, ""});
  EXPECT_TRUE(contains(mismatch.message(), "does not match")) << mismatch.message();
  zc::Status keyIsNoCert = bindWith({pki_.serverKey, pki_.serverKey, ""});
  EXPECT_EQ(keyIsNoCert.code(), zc::Status::Code::kInvalidArgument);
  EXPECT_TRUE(contains(keyIsNoCert.message(), "certificate")) << keyIsNoCert.message();
  zc::Status halfGiven = bindWith({"", pki_.serverKey, ""});
  EXPECT_EQ(halfGiven.code(), zc::Status::Code::kInvalidArgument);
  zc::Status badCa = bindWith({pki_.serverCert, pki_.serverKey, pki_.serverKey});
  EXPECT_EQ(badCa.code(), zc::Status::Code::kInvalidArgument) << badCa.message();
  EXPECT_TRUE(bindWith({pki_.serverCert, pki_.serverKey, pki_.caCert}).isOk());
}

// 16 clients that hold TLS connections open without finishing a handshake (8 silent after the
// TCP connect, 8 sending a ClientHello's first bytes one at a time) do not delay /healthz.
TEST_F(TlsTest, SilentAndSlowTlsClientsDoNotDelayHealthz) {
  auto o = tlsOptions();
  o.maxThreads = 2;  // a held worker would show at once
  ExporterStack stack({}, o);
  std::vector<int> silent, slow;
  for (int i = 0; i < 8; ++i) silent.push_back(zc::testing::connectLoopback(stack.port()));
  for (int i = 0; i < 8; ++i) slow.push_back(zc::testing::connectLoopback(stack.port()));
  // A TLS record header of a handshake message, then nothing more for now.
  const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    for (size_t b = 0; b < sizeof hello && !stop; ++b) {
      for (int fd : slow) (void)!::send(fd, hello + b, 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(100ms);
    }
  });
  std::vector<double> ms;
  for (int i = 0; i < 100; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = zc::testing::tlsGet(stack.port(), "/healthz", client());
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_EQ(r.reply.status, 200) << r.error;
  }
  stop = true;
  trickle.join();
  std::sort(ms.begin(), ms.end());
  double p99 = ms[98];
  EXPECT_LT(p99, 100.0) << "p50 " << ms[50] << " ms, p99 " << p99 << " ms";
  for (int fd : silent) ::close(fd);
  for (int fd : slow) ::close(fd);
}

TEST_F(TlsTest, SilentTlsClientIsClosedAtTheReadDeadline) {
  auto o = tlsOptions();
  o.readTimeoutMs = 300;
  ExporterStack stack({}, o);
  int fd = zc::testing::connectLoopback(stack.port());
  ASSERT_GE(fd, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto t0 = std::chrono::steady_clock::now();
  char b;
  EXPECT_EQ(::recv(fd, &b, 1, 0), 0);  // closed by the server, nothing sent
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  ::close(fd);
}

TEST_F(TlsTest, BeyondThePeerCapATlsConnectionIsClosedBeforeTheHandshake) {
  auto o = tlsOptions();
  o.maxConnectionsPerPeer = 2;
  ExporterStack stack({}, o);
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) held.push_back(zc::testing::connectLoopback(stack.port()));
  std::this_thread::sleep_for(100ms);  // accepted by the reactor
  auto refused = zc::testing::tlsGet(stack.port(), "/healthz", client());
  EXPECT_FALSE(refused.handshake);
  EXPECT_EQ(refused.reply.status, 0);
  for (int fd : held) ::close(fd);
  EXPECT_TRUE(zc::testing::waitFor(
      [&] { return zc::testing::tlsGet(stack.port(), "/healthz", client()).reply.status == 200; },
      3s, 50ms));
}

TEST(PeerCapTest, OnePeerBeyondItsCapGets503WhileAnotherPeerIsServed) {
  zc::exporters::HttpServerOptions o;
  o.maxConnectionsPerPeer = 4;
  ExporterStack stack({}, o);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(zc::testing::connectLoopback(stack.port()));
  std::this_thread::sleep_for(100ms);  // accepted by the reactor
  auto refused = zc::testing::httpRequest(stack.port(), "GET", "/healthz");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "1");
  EXPECT_TRUE(contains(refused.body, "\"error\":\"overloaded\"")) << refused.body;
  // Another address is not affected.
  int other = zc::testing::connectLoopbackFrom("127.0.0.2", stack.port());
  ASSERT_GE(other, 0);
  std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(other, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(other, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(other);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  // Closing one gives the slot back.
  ::close(held.back());
  held.pop_back();
  EXPECT_TRUE(zc::testing::waitFor(
      [&] { return zc::testing::httpRequest(stack.port(), "GET", "/healthz").status == 200; }, 3s,
      50ms));
  for (int fd : held) ::close(fd);
}

}  // namespace
