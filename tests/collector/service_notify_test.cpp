// The notify protocol (collector/src/service_notify.h) against a real datagram socket, as
// systemd listens: each call is one datagram to $NOTIFY_SOCKET, a path or an '@' abstract name;
// no variable, or one naming no socket or another kind of address, sends nothing and fails
// nothing.
#include "service_notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "test_support.h"

namespace zc::collector {
namespace {

// A bound AF_UNIX datagram socket; `name` starting with '@' is abstract.
class Listener {
 public:
  explicit Listener(const std::string& name)
      : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr),
                    static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0;
  }
  ~Listener() { ::close(fd_); }
  bool bound() const { return bound_; }
  // The next datagram, or nullopt when none comes within 1 s.
  std::optional<std::string> next() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return std::nullopt;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  bool quiet() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 100) == 0;
  }

 private:
  int fd_;
  bool bound_ = false;
};

class ServiceNotifyTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("NOTIFY_SOCKET"); }
};

TEST_F(ServiceNotifyTest, EachCallIsOneDatagramToThePathNamed) {
  zc::testing::TempDir dir;
  const std::string path = dir.path() + "/notify.sock";
  Listener systemd(path);
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  notifyReady("serving on 127.0.0.1:8080");
  EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=serving on 127.0.0.1:8080");
  notifyReloading();
  EXPECT_EQ(systemd.next(), "RELOADING=1");
  notifyStopping();
  EXPECT_EQ(systemd.next(), "STOPPING=1\nSTATUS=stopping");
  EXPECT_TRUE(systemd.quiet());
}

TEST_F(ServiceNotifyTest, AnAtSignNamesAnAbstractSocket) {
  const std::string name = "@zc-notify-test-" + std::to_string(::getpid());
  Listener systemd(name);
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  notifyReady("ready");
  EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=ready");
}

TEST_F(ServiceNotifyTest, NoVariableOrNoUsableSocketSendsNothingAndFailsNothing) {
  zc::testing::TempDir dir;
  const std::string path = dir.path() + "/notify.sock";
  Listener systemd(path);
  ASSERT_TRUE(systemd.bound());
  // From the socket's folder: a relative name would reach it if it were accepted.
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  ::unsetenv("NOTIFY_SOCKET");
  notifyReady("x");
  for (const std::string& where :
       {std::string("notify.sock"), std::string("@"), std::string(""), "vsock:2:" + path,
        dir.path() + "/absent.sock", "/" + std::string(200, 'x')}) {
    ::setenv("NOTIFY_SOCKET", where.c_str(), 1);
    notifyReady("x");
    notifyStopping();
    notifyReloading();
  }
  ASSERT_EQ(::chdir(cwd), 0);
  EXPECT_TRUE(systemd.quiet());
}

}  // namespace
}  // namespace zc::collector
