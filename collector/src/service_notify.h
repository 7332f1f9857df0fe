// Tells the service manager how the daemon is doing: systemd's notify protocol, one datagram to
// the socket $NOTIFY_SOCKET names (a path or an '@' abstract name), written here rather than
// linked from libsystemd, which would map five more libraries (0.8 MiB resident) for it. Each
// call is a no-op when the daemon was not started by systemd with Type=notify (no NOTIFY_SOCKET
// in the environment) or the variable names no such socket, and never fails the caller: a lost
// notification only delays what systemd shows.
//
// Thread-safety: callable from any thread.
#pragma once

#include <string_view>

namespace zc::collector {

// READY=1 with a STATUS= line: the start-up is complete (storage open, the port serving).
void notifyReady(std::string_view status) noexcept;
// STOPPING=1: the daemon stops in order.
void notifyStopping() noexcept;
// RELOADING=1 ... READY=1 around a SIGHUP re-read.
void notifyReloading() noexcept;

}  // namespace zc::collector
