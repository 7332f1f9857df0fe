#include "service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace zc::collector {
namespace {

// The notify protocol (sd_notify(3)): one datagram of newline-separated assignments, sent to the
// AF_UNIX datagram socket named by $NOTIFY_SOCKET: a path, or '@' and an abstract name. Other
// address kinds (vsock: for virtual machines) are not for a host daemon and are not sent to.
void notify(const std::string& state) noexcept {
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr) return;
  const size_t len = std::strlen(where);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if ((where[0] != '/' && where[0] != '@') || len < 2 || len > sizeof(addr.sun_path)) return;
  std::memcpy(addr.sun_path, where, len);
  if (where[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t addrLen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  // A datagram is sent whole or not at all; not sent: nothing the daemon can do about it.
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&addr), addrLen);
  ::close(fd);
}

}  // namespace

void notifyReady(std::string_view status) noexcept {
  try {
    notify("READY=1\nSTATUS=" + std::string(status));
  } catch (...) {
    // Only allocation can fail here.
  }
}

void notifyStopping() noexcept {
  try {
    notify("STOPPING=1\nSTATUS=stopping");
  } catch (...) {
  }
}

void notifyReloading() noexcept {
  try {
    notify("RELOADING=1");
  } catch (...) {
  }
}

}  // namespace zc::collector
