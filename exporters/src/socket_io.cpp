#include "socket_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace zc::exporters {

int remainingMs(SteadyClock::time_point deadline) noexcept {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

bool waitFor(Transport& io, IoResult::Kind want, int ms) noexcept {
  if (want == IoResult::Kind::kWantRead && io.pending() > 0) return true;
  pollfd p{io.fd(), static_cast<short>(want == IoResult::Kind::kWantWrite ? POLLOUT : POLLIN), 0};
  for (;;) {
    int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

bool writeAll(Transport& io, std::string_view data, SteadyClock::time_point deadline) noexcept {
  size_t off = 0;
  while (off < data.size()) {
    // On a retry the same bytes are offered again (TLS requires it).
    IoResult r = io.write(data.data() + off, data.size() - off);
    if (r.kind == IoResult::Kind::kDone) {
      off += r.bytes;
      continue;
    }
    if (r.kind != IoResult::Kind::kWantRead && r.kind != IoResult::Kind::kWantWrite) return false;
    int ms = remainingMs(deadline);
    if (ms == 0 || !waitFor(io, r.kind, ms)) return false;
  }
  return true;
}

IoResult::Kind writeSome(Transport& io, std::string_view data, size_t* off) noexcept {
  while (*off < data.size()) {
    IoResult r = io.write(data.data() + *off, data.size() - *off);
    if (r.kind != IoResult::Kind::kDone) return r.kind;
    *off += r.bytes;
  }
  return IoResult::Kind::kDone;
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
