#include "http_connection.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zc::exporters {

ConnectionQueue::~ConnectionQueue() {
  closeQueued();
  if (wakeFd_ >= 0) ::close(wakeFd_);
}

Status ConnectionQueue::open() {
  if (wakeFd_ >= 0) return Status::failedPrecondition("HTTP server already started");
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) return Status::ioError(std::string("eventfd: ") + std::strerror(errno));
  return Status::ok();
}

void ConnectionQueue::wake() noexcept {
  uint64_t one = 1;
  if (wakeFd_ >= 0) (void)!::write(wakeFd_, &one, sizeof one);
}

bool ConnectionQueue::takeReturned(std::vector<std::unique_ptr<Conn>>& out) {
  uint64_t v;
  (void)!::read(wakeFd_, &v, sizeof v);
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  out.swap(returned_);
  return true;
}

bool ConnectionQueue::tryAdmit() {
  std::lock_guard lock(mu_);
  if (waiting_ >= maxWaiting_) return false;
  ++waiting_;
  return true;
}

void ConnectionQueue::forget() {
  std::lock_guard lock(mu_);
  --waiting_;
}

void ConnectionQueue::pushReady(std::unique_ptr<Conn> c) {
  std::lock_guard lock(mu_);
  ready_.push_back(std::move(c));
  cv_.notify_one();
}

std::unique_ptr<Conn> ConnectionQueue::popReady(ConnSlot& slot) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopping_ || !ready_.empty(); });
  if (stopping_) return nullptr;
  std::unique_ptr<Conn> c = std::move(ready_.front());
  ready_.pop_front();
  --waiting_;
  slot.mu = &mu_;
  slot.fd = c->fd;
  slot.io = &c->io;
  active_.insert(&slot);
  return c;
}

void ConnectionQueue::finish(std::unique_ptr<Conn> c, ConnSlot& slot, bool keep) {
  std::lock_guard lock(mu_);
  active_.erase(&slot);
  if (slot.fd < 0) return;  // closed, or detached by its handler
  if (keep && !stopping_) {
    ++waiting_;
    returned_.push_back(std::move(c));
    wake();
  } else {
    if (c->io) c->io->close();
    slot.fd = -1;
  }
}

void ConnectionQueue::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (ConnSlot* c : active_) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    cv_.notify_all();
  }
  wake();
}

void ConnectionQueue::closeQueued() noexcept {
  std::lock_guard lock(mu_);
  ready_.clear();  // destroying a Conn closes it
  returned_.clear();
}

}  // namespace zc::exporters
