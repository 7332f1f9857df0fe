#include "http_reactor.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "json_response.h"
#include "response_head.h"

namespace zc::exporters {
namespace {

RequestLimits limitsOf(const HttpServerOptions& o) {
  return RequestLimits{o.maxRequestLineBytes, o.maxHeaderBytes, o.maxHeaderCount, o.maxBodyBytes};
}

// The peer's address bytes (the port left out): the per-peer cap's key.
std::string peerKey(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(a).sin6_addr;
    // An IPv4 peer on a dual-stack socket counts as that IPv4 address.
    if (IN6_IS_ADDR_V4MAPPED(&in6)) return std::string(reinterpret_cast<const char*>(&in6) + 12, 4);
    return std::string(reinterpret_cast<const char*>(&in6), sizeof in6);
  }
  if (a.ss_family == AF_INET) {
    const auto& in4 = reinterpret_cast<const sockaddr_in&>(a).sin_addr;
    return std::string(reinterpret_cast<const char*>(&in4), sizeof in4);
  }
  return std::string();
}

}  // namespace

Reactor::Reactor(const HttpServerOptions& options, ConnectionQueue& queue, int listenFd,
                 PeerLimit& peers, const TlsHolder& tls)
    : opts_(options),
      limits_(limitsOf(options)),
      queue_(queue),
      listenFd_(listenFd),
      peers_(peers),
      tls_(tls) {}

Reactor::~Reactor() {
  join();
  held_.clear();  // when the thread never ran; destroying a Conn closes it
  if (epollFd_ >= 0) ::close(epollFd_);
}

Status Reactor::start() {
  epollFd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) return Status::ioError(std::string("epoll: ") + std::strerror(errno));
  for (int fd : {listenFd_, queue_.wakeFd()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  }
  thread_ = std::thread([this] { loop(); });
  return Status::ok();
}

void Reactor::join() noexcept {
  if (thread_.joinable()) thread_.join();
}

void Reactor::loop() {
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epollFd_, events, 64, nextTimeoutMs());
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listenFd_) {
        acceptOne();
      } else if (fd == queue_.wakeFd()) {
        std::vector<std::unique_ptr<Conn>> back;
        if (!queue_.takeReturned(back)) {
          held_.clear();
          return;
        }
        for (auto& c : back) {
          int cfd = c->fd;
          const bool writing = c->writing();
          hold(std::move(c), writing ? opts_.readTimeoutMs : opts_.keepAliveTimeoutMs);
          if (writing) {
            flush(cfd);  // the socket may have drained since the worker tried
          } else {
            awaitNext(cfd);
          }
        }
      } else if (auto it = held_.find(fd); it != held_.end()) {
        Conn& c = *it->second;
        if (c.writing()) {
          flush(fd);
          continue;
        }
        if (c.handshaking) {
          handshake(fd);
          continue;
        }
        if (c.draining) {
          if (!discardInput(c)) closeHeld(fd);
          continue;
        }
        if (readFrom(c)) {
          advance(fd);
        } else {
          closeHeld(fd);
        }
      }
    }
    expire();
  }
}

void Reactor::acceptOne() {
  sockaddr_storage peer{};
  socklen_t peerLen = sizeof peer;
  int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &peerLen,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE) {
      // Out of descriptors: back off instead of spinning on the pending connection.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::shared_ptr<const TlsContext> tls = tls_.get();
  PeerLease lease;
  if (!peers_.tryAcquire(peerKey(peer), lease) || !queue_.tryAdmit()) {
    refuse(fd, tls != nullptr);
    return;
  }
  std::unique_ptr<Transport> io = tls ? tls->wrap(fd) : makePlainTransport(fd);
  if (!io) {
    queue_.forget();
    return;
  }
  auto c = std::make_unique<Conn>(std::move(io), std::move(lease));
  if (tls) {
    // The handshake counts as the start of the first request: the same deadlines bound it.
    c->handshaking = true;
    c->requestDeadline = SteadyClock::now() + std::chrono::milliseconds(opts_.requestTimeoutMs);
  }
  hold(std::move(c), opts_.readTimeoutMs);
}

void Reactor::refuse(int fd, bool tls) {
  if (!tls) {
    std::string resp = errorResponse(503, "overloaded", "the collector is busy; retry shortly",
                                     {{"Retry-After", "1"}});
    // Best effort and never blocking the reactor: a fresh socket's buffer takes it at once.
    (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

void Reactor::watch(int fd, bool wantWrite) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (wantWrite ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  ::epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev);
}

void Reactor::handshake(int fd) {
  Conn& c = *held_.at(fd);
  IoResult r = c.io->handshake();
  auto now = SteadyClock::now();
  switch (r.kind) {
    case IoResult::Kind::kDone:
      c.handshaking = false;
      watch(fd, false);
      c.readDeadline =
          std::min(c.requestDeadline, now + std::chrono::milliseconds(opts_.readTimeoutMs));
      // The request may have come with the handshake's last flight.
      if (!readFrom(c)) return closeHeld(fd);
      return advance(fd);
    case IoResult::Kind::kWantRead:
    case IoResult::Kind::kWantWrite:
      watch(fd, r.kind == IoResult::Kind::kWantWrite);
      c.readDeadline =
          std::min(c.requestDeadline, now + std::chrono::milliseconds(opts_.readTimeoutMs));
      return;
    default:
      return closeHeld(fd);  // plain HTTP on the TLS port, no client certificate, ...
  }
}

void Reactor::hold(std::unique_ptr<Conn> c, int waitMs) {
  const int fd = c->fd;
  c->readDeadline = SteadyClock::now() + std::chrono::milliseconds(waitMs);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  ::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
  held_[fd] = std::move(c);
}

void Reactor::flush(int fd) {
  Conn& c = *held_.at(fd);
  const size_t before = c.outOff;
  IoResult::Kind r = writeSome(*c.io, c.out, &c.outOff);
  if (r == IoResult::Kind::kWantRead || r == IoResult::Kind::kWantWrite) {
    // Only the readiness the transport asks for: no EPOLLIN while writing to a client that
    // does not read, or its pipelined input would wake this thread again and again.
    epoll_event ev{};
    ev.events = r == IoResult::Kind::kWantRead ? EPOLLIN : EPOLLOUT;
    ev.data.fd = fd;
    ::epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev);
    if (c.outOff > before) {
      c.readDeadline = SteadyClock::now() + std::chrono::milliseconds(opts_.readTimeoutMs);
    }
    return;
  }
  if (r != IoResult::Kind::kDone) return closeHeld(fd);
  std::string().swap(c.out);  // the memory goes now, not with the connection
  c.outOff = 0;
  if (c.producer) return handOff(fd);  // a worker makes the next piece of the body
  if (c.closeAfterOut) {
    c.io->shutdownWrite();
    c.draining = true;
    c.in.clear();
    c.readDeadline = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
    watch(fd, false);
    if (!discardInput(c)) closeHeld(fd);
    return;
  }
  c.readDeadline = SteadyClock::now() + std::chrono::milliseconds(opts_.keepAliveTimeoutMs);
  watch(fd, false);
  awaitNext(fd);
}

void Reactor::awaitNext(int fd) {
  Conn& c = *held_.at(fd);
  // TLS bytes the socket no longer signals.
  if (c.io->pending() > 0 && !readFrom(c)) return closeHeld(fd);
  advance(fd);  // a pipelined request may already be there
}

bool Reactor::readFrom(Conn& c) {
  char buf[16384];  // one TLS record
  for (;;) {
    IoResult r = c.io->read(buf, sizeof buf);
    if (r.kind == IoResult::Kind::kDone) {
      c.in.append(buf, r.bytes);
      // Bounded: a head beyond the limits fails to parse; a body is at most maxBodyBytes.
      if (c.in.size() >
          opts_.maxRequestLineBytes + opts_.maxHeaderBytes + opts_.maxBodyBytes + 8192) {
        return true;
      }
      continue;
    }
    return r.kind == IoResult::Kind::kWantRead || r.kind == IoResult::Kind::kWantWrite;
  }
}

void Reactor::advance(int fd) {
  Conn& c = *held_.at(fd);
  if (c.in.empty()) return;
  auto now = SteadyClock::now();
  if (!c.started) {
    c.started = true;
    c.requestDeadline = now + std::chrono::milliseconds(opts_.requestTimeoutMs);
  }
  c.readDeadline =
      std::min(c.requestDeadline, now + std::chrono::milliseconds(opts_.readTimeoutMs));
  c.head = parseRequestHead(c.in, limits_);
  if (c.head.state == RequestHead::State::kNeedMore) return;
  if (c.head.state == RequestHead::State::kError) return reject(fd, c.head.error);
  c.framing = frameRequest(c.head, limits_);
  if (c.framing.error.status != 0) return reject(fd, c.framing.error);
  if (c.in.size() >= c.head.end + c.framing.bodyLen) return handOff(fd);
  // The body is still on its way; a client that announced it with Expect: 100-continue waits
  // for this before sending it (curl does). 25 bytes: the socket buffer takes them at once.
  if (c.framing.expectContinue && !c.continueSent) {
    ResponseHead interim;
    interim.status = 100;
    const std::string bytes = writeResponseHead(interim);
    size_t off = 0;
    if (writeSome(*c.io, bytes, &off) != IoResult::Kind::kDone) return closeHeld(fd);
    c.continueSent = true;
  }
}

void Reactor::reject(int fd, const RequestError& error) {
  Conn& c = *held_.at(fd);
  std::string resp = errorResponse(error.status, error.code, error.message);
  // Best effort, one non-blocking write: a small response fits a fresh socket buffer.
  (void)c.io->write(resp.data(), resp.size());
  c.io->shutdownWrite();
  c.draining = true;
  c.in.clear();
  c.readDeadline = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
  if (!discardInput(c)) closeHeld(fd);
}

bool Reactor::discardInput(Conn& c) {
  char buf[8192];
  while (c.drained < kMaxDrainBytes) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.drained += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return false;
}

void Reactor::handOff(int fd) {
  ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  auto node = held_.extract(fd);
  queue_.pushReady(std::move(node.mapped()));
}

void Reactor::closeHeld(int fd) {
  ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  held_.erase(fd);  // destroying the Conn closes it
  queue_.forget();
}

// Idle connections past their wait are closed quietly, requests past a deadline get 408, and
// refused connections are closed when their lingering time is over.
void Reactor::expire() {
  auto now = SteadyClock::now();
  std::vector<int> late;
  for (auto& [fd, c] : held_) {
    if (c->readDeadline <= now) late.push_back(fd);
  }
  for (int fd : late) {
    Conn& c = *held_.at(fd);
    // A client that stopped reading its response is dropped: nothing can follow a partial one.
    if (!c.started || c.draining || c.handshaking || c.writing()) {
      closeHeld(fd);
    } else {
      reject(fd, RequestError{408, "request_timeout", "the request did not arrive in time"});
    }
  }
}

int Reactor::nextTimeoutMs() const {
  if (held_.empty()) return -1;
  auto first = SteadyClock::time_point::max();
  for (const auto& [fd, c] : held_) first = std::min(first, c->readDeadline);
  return std::max(1, remainingMs(first) + 1);
}

}  // namespace zc::exporters
