// TLS on the real daemon: --tls-cert/--tls-key/--tls-client-ca at start-up (bad files: one line,
// exit 78) and the certificate re-read on SIGHUP (a bad new pair keeps the old one, one error
// line).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "collector_process.h"
#include "test_support.h"
#include "tls_test_client.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ChildProcess;
using zc::testing::collectorArgv;
using zc::testing::freePort;

class TlsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(zc::testing::makeTestPki(dir_.path(), pki_, &error)) << error;
  }
  std::vector<std::string> argv(uint16_t port, const std::vector<std::string>& extra) {
    std::vector<std::string> a = {"--listen",   "127.0.0.1:" + std::to_string(port),
                                  "--storage",  "memory",
                                  "--runtime",  "none",
                                  "--router",   "none",
                                  "--data-dir", dir_.path() + "/data"};
    a.insert(a.end(), extra.begin(), extra.end());
    return collectorArgv(a);
  }
  zc::testing::TlsClientOptions client() const {
    zc::testing::TlsClientOptions o;
    o.caFile = pki_.caCert;
    o.timeoutMs = 2000;
    return o;
  }

  zc::testing::TempDir dir_;
  zc::testing::TestPki pki_;
};

TEST_F(TlsDaemonTest, BadTlsFilesStopTheStartWithOneLineAndExit78) {
  struct Case {
    std::vector<std::string> args;
    std::string mention;
  };
  std::vector<Case> cases = {
      {{"--tls-cert", pki_.serverCert, "--tls-key", pki_.otherKey}, "does not match"},
      {{"--tls-cert", dir_.path() + "/missing.pem", "--tls-key", pki_.serverKey}, "missing.pem"},
      {{"--tls-cert", pki_.serverCert}, "--tls-cert: needs --tls-key"},
      {{"--tls-key", pki_.serverKey}, "--tls-key: needs --tls-cert"},
      {{"--tls-client-ca", pki_.caCert}, "--tls-client-ca"},
  };
  for (const Case& c : cases) {
    ChildProcess d(argv(freePort(), c.args));
    EXPECT_EQ(d.wait(10s), 78) << c.mention;
    const std::string err = d.err();
    EXPECT_NE(err.find("zynd-collector: "), std::string::npos) << err;
    EXPECT_NE(err.find(c.mention), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST_F(TlsDaemonTest, SighupServesTheNewCertificateAndABadPairKeepsTheOld) {
  namespace fs = std::filesystem;
  const std::string cert = dir_.path() + "/live.pem", key = dir_.path() + "/live.key";
  fs::copy_file(pki_.serverCert, cert);
  fs::copy_file(pki_.serverKey, key);
  const uint16_t port = freePort();
  ChildProcess d(argv(port, {"--tls-cert", cert, "--tls-key", key}));
  std::string cn;
  ASSERT_TRUE(zc::testing::waitFor(
      [&] {
        auto r = zc::testing::tlsGet(port, "/healthz", client());
        cn = r.peerCn;
        return r.reply.status == 200;
      },
      20s, 100ms))
      << d.err();
  EXPECT_EQ(cn, "server-1");
  // Plain HTTP to the TLS port gets no HTTP answer.
  EXPECT_EQ(zc::testing::rawRequest(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2000)
                .status,
            0);

  fs::copy_file(pki_.server2Cert, cert, fs::copy_options::overwrite_existing);
  fs::copy_file(pki_.server2Key, key, fs::copy_options::overwrite_existing);
  d.signal(SIGHUP);
  EXPECT_TRUE(zc::testing::waitFor(
      [&] { return zc::testing::tlsGet(port, "/healthz", client()).peerCn == "server-2"; }, 10s,
      100ms));

  fs::copy_file(pki_.otherKey, key, fs::copy_options::overwrite_existing);
  d.signal(SIGHUP);
  EXPECT_TRUE(zc::testing::waitFor(
      [&] { return d.err().find("TLS not reloaded") != std::string::npos; }, 10s, 100ms))
      << d.err();
  auto r = zc::testing::tlsGet(port, "/healthz", client());
  EXPECT_EQ(r.peerCn, "server-2");
  EXPECT_EQ(r.reply.status, 200);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0);
}

}  // namespace
