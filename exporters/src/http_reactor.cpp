#include "http_reactor.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "json_response.h"

namespace zc::exporters {
namespace {

RequestLimits limitsOf(const HttpServerOptions& o) {
  return RequestLimits{o.maxRequestLineBytes, o.maxHeaderBytes, o.maxHeaderCount, o.maxBodyBytes};
}

}  // namespace

Reactor::Reactor(const HttpServerOptions& options, ConnectionQueue& queue, int listenFd)
    : opts_(options), limits_(limitsOf(options)), queue_(queue), listenFd_(listenFd) {}

Reactor::~Reactor() {
  join();
  for (auto& [fd, c] : held_) ::close(fd);  // when the thread never ran
  held_.clear();
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
          for (auto& [hfd, c] : held_) ::close(hfd);
          held_.clear();
          return;
        }
        for (auto& c : back) {
          int cfd = c->fd;
          hold(std::move(c), opts_.keepAliveTimeoutMs);
          advance(cfd);  // a pipelined request may already be there
        }
      } else if (auto it = held_.find(fd); it != held_.end()) {
        Conn& c = *it->second;
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
  int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE) {
      // Out of descriptors: back off instead of spinning on the pending connection.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (queue_.tryAdmit()) {
    hold(std::make_unique<Conn>(fd), opts_.readTimeoutMs);
    return;
  }
  std::string resp = errorResponse(503, "overloaded", "the collector is busy; retry shortly",
                                   {{"Retry-After", "1"}});
  // Best effort and never blocking the reactor: a fresh socket's buffer takes it at once.
  (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
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

bool Reactor::readFrom(Conn& c) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      // Bounded: a head beyond the limits fails to parse; a body is at most maxBodyBytes.
      if (c.in.size() >
          opts_.maxRequestLineBytes + opts_.maxHeaderBytes + opts_.maxBodyBytes + 8192) {
        return true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
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
  bool bodyHere = c.in.size() >= c.head.end + c.framing.bodyLen;
  if (!bodyHere && !c.framing.expectContinue) return;  // the body is still on its way
  handOff(fd);
}

void Reactor::reject(int fd, const RequestError& error) {
  Conn& c = *held_.at(fd);
  std::string resp = errorResponse(error.status, error.code, error.message);
  (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
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
  ::close(fd);
  held_.erase(fd);
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
    if (!c.started || c.draining) {
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
