// The Caddy router plugin's contract that needs no Caddy: option checks, id validation before
// any network traffic, and the mapping of network failures to Unavailable.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "router_test_helpers.h"

namespace zc::testing {
namespace {

class CaddyOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(plugins_.load().isOk()); }
  CaddyPluginFixture plugins_;
};

TEST_F(CaddyOptionsTest, DefaultsAreAccepted) {
  auto router = plugins_.create({});
  ASSERT_TRUE(router.isOk()) << router.status().toString();
}

TEST_F(CaddyOptionsTest, MalformedOptionsFailConfigureWithOneLineNamingTheKey) {
  const std::map<std::string, std::string> bad[] = {
      {{"admin_url", "https://127.0.0.1:2019"}},
      {{"admin_url", "http://127.0.0.1:2019/config"}},
      {{"admin_url", "http://user@127.0.0.1:2019"}},
      {{"admin_url", "http://127.0.0.1:2019?x=1"}},
      {{"admin_url", "unix//run/caddy-admin.sock"}},
      {{"admin_url", "127.0.0.1:2019"}},
      {{"admin_url", ""}},
      {{"timeout", "0"}},
      {{"timeout", "-1"}},
      {{"timeout", "5x"}},
      {{"timeout", ""}},
  };
  for (const auto& options : bad) {
    auto router = plugins_.create(options);
    ASSERT_FALSE(router.isOk()) << options.begin()->first << "=" << options.begin()->second;
    const std::string msg = router.status().message();
    EXPECT_EQ(router.status().code(), Status::Code::kInvalidArgument) << msg;
    EXPECT_EQ(msg.rfind("router.caddy." + options.begin()->first + ": ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST_F(CaddyOptionsTest, InvalidRouteIdsAreRejectedBeforeAnyRequest) {
  // Nothing listens on this port: an id that reached the network would give Unavailable.
  auto router =
      plugins_.create({{"admin_url", "http://127.0.0.1:" + std::to_string(freeLoopbackPort())}});
  ASSERT_TRUE(router.isOk()) << router.status().toString();
  const std::string bad[] = {"",
                             ".",
                             "..",
                             "a/b",
                             "/",
                             "..%2Fconfig",
                             "%2F",
                             "a b",
                             " zynd-a",
                             "zynd-a?x=1",
                             "zynd-a#x",
                             "zynd-a\r\nHost: evil",
                             std::string("zynd\0a", 6),
                             "caf\xc3\xa9",
                             std::string(129, 'a')};
  for (const auto& id : bad) {
    Status s = (*router)->removeRoute(id);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << "'" << id << "': " << s.toString();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
  }
  // Valid ids do go to the network (and find nobody there).
  const std::string good[] = {"zynd-a", "a.b_c-D9", "...", std::string(128, 'z')};
  for (const auto& id : good) {
    EXPECT_EQ((*router)->removeRoute(id).code(), Status::Code::kUnavailable) << id;
  }
}

TEST_F(CaddyOptionsTest, ConnectionRefusedIsUnavailableWithOneLine) {
  const uint16_t port = freeLoopbackPort();
  auto router = plugins_.create({{"admin_url", "http://127.0.0.1:" + std::to_string(port)}});
  ASSERT_TRUE(router.isOk()) << router.status().toString();
  Status s = (*router)->removeRoute("zynd-a");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.toString();
  EXPECT_NE(s.message().find("connection refused"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(std::to_string(port)), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

TEST_F(CaddyOptionsTest, SilentAdminTimesOutAsUnavailable) {
  // A listening socket nobody accepts from: the kernel completes the handshake, no answer comes.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const uint16_t port = ntohs(addr.sin_port);

  auto router = plugins_.create(
      {{"admin_url", "http://127.0.0.1:" + std::to_string(port)}, {"timeout", "300ms"}});
  ASSERT_TRUE(router.isOk()) << router.status().toString();
  const auto start = std::chrono::steady_clock::now();
  Status s = (*router)->removeRoute("zynd-a");
  const auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.toString();
  EXPECT_NE(s.message().find("no answer within 300 ms"), std::string::npos) << s.message();
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace zc::testing
