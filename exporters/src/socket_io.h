// Small blocking-with-deadline socket helpers shared by the HTTP reactor and workers: bounded
// writes and reads through a connection's Transport (plain or TLS), the lingering close of a
// refused connection, and the addresses of a socket.
//
// Thread-safety: each call touches only the transport or descriptor it is given; callable from
// any thread that owns that connection.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <cstddef>
#include <string_view>

#include "zc/exporters/transport.h"

namespace zc::exporters {

using SteadyClock = std::chrono::steady_clock;

inline constexpr int kLingerMs = 1000;                // how long a refused connection is drained
inline constexpr size_t kMaxDrainBytes = 256 * 1024;  // and how much of its input is dropped

// Milliseconds until `deadline`, 0 when it has passed.
int remainingMs(SteadyClock::time_point deadline) noexcept;

// Writes all of `data` through `io` before `deadline`, waiting with poll() for whatever
// readiness the transport asks for; false on timeout, error or close.
bool writeAll(Transport& io, std::string_view data, SteadyClock::time_point deadline) noexcept;

// Writes what `io` takes now of `data` from `*off` on, without waiting, advancing `*off`:
// kDone once all of it is written, kWantRead/kWantWrite when the socket takes no more for now
// (call again with the same `data` and `*off` when it is ready), kClosed/kError on failure.
IoResult::Kind writeSome(Transport& io, std::string_view data, size_t* off) noexcept;

// Waits up to `ms` for what `want` (kWantRead or kWantWrite) asks of `io`'s socket; a TLS
// transport with decrypted bytes pending is readable at once. False on timeout or error.
bool waitFor(Transport& io, IoResult::Kind want, int ms) noexcept;

// Reads and drops what the client still sends, bounded by kLingerMs and kMaxDrainBytes, so that
// unread input does not turn the coming close into a RST that could destroy the error response
// before the client has read it ("lingering close"). Reads the raw socket: after a TLS
// close_notify, what still arrives is dropped unread.
void lingerAndDrain(int fd) noexcept;

// The peer's (`peer`) or the local address of `fd`; an empty address when unknown.
Poco::Net::SocketAddress addressOf(int fd, bool peer);

}  // namespace zc::exporters
