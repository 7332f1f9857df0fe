#include "socket_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace zc::exporters {

int remainingMs(SteadyClock::time_point deadline) noexcept {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

bool writeAll(int fd, std::string_view data, SteadyClock::time_point deadline) noexcept {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int ms = remainingMs(deadline);
      if (ms == 0) return false;
      int r = ::poll(&p, 1, ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

void lingerAndDrain(int fd) noexcept {
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
  size_t drained = 0;
  char buf[8192];
  while (drained < kMaxDrainBytes) {
    pollfd p{fd, POLLIN, 0};
    int ms = remainingMs(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    drained += static_cast<size_t>(n);
  }
}

Poco::Net::SocketAddress addressOf(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return Poco::Net::SocketAddress();
  try {
    return Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&ss), len);
  } catch (const Poco::Exception&) {
    return Poco::Net::SocketAddress();
  }
}

}  // namespace zc::exporters
