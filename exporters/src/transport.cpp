#include "zc/exporters/transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace zc::exporters {
namespace {

// Plain TCP: one recv/send per call, no copy.
class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) noexcept : Transport(fd) {}
  ~PlainTransport() override { close(); }

  bool isTls() const noexcept override { return false; }
  IoResult handshake() noexcept override { return {IoResult::Kind::kDone, 0}; }

  IoResult read(char* buf, size_t len) noexcept override {
    for (;;) {
      ssize_t n = ::recv(fd_, buf, len, MSG_DONTWAIT);
      if (n > 0) return {IoResult::Kind::kDone, static_cast<size_t>(n)};
      if (n == 0) return {IoResult::Kind::kClosed, 0};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoResult::Kind::kWantRead, 0};
      return {IoResult::Kind::kError, 0};
    }
  }

  IoResult write(const char* buf, size_t len) noexcept override {
    for (;;) {
      ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) return {IoResult::Kind::kDone, static_cast<size_t>(n)};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {IoResult::Kind::kWantWrite, 0};
      return {IoResult::Kind::kError, 0};
    }
  }

  void shutdownWrite() noexcept override {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  }

  void close() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
};

}  // namespace

std::unique_ptr<Transport> makePlainTransport(int fd) {
  return std::make_unique<PlainTransport>(fd);
}

}  // namespace zc::exporters
