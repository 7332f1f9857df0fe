#include "peer_limit.h"

namespace zc::exporters {

PeerLease::~PeerLease() {
  if (limit_ != nullptr) limit_->release(key_);
}

PeerLease& PeerLease::operator=(PeerLease&& o) noexcept {
  if (this != &o) {
    if (limit_ != nullptr) limit_->release(key_);
    limit_ = o.limit_;
    key_ = std::move(o.key_);
    o.limit_ = nullptr;
  }
  return *this;
}

bool PeerLimit::tryAcquire(const std::string& peer, PeerLease& lease) {
  {
    std::lock_guard lock(mu_);
    size_t& n = open_[peer];
    if (max_ > 0 && n >= max_) {
      if (n == 0) open_.erase(peer);
      return false;
    }
    ++n;
  }
  lease = PeerLease(this, peer);
  return true;
}

size_t PeerLimit::count(const std::string& peer) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(peer);
  return it == open_.end() ? 0 : it->second;
}

void PeerLimit::release(const std::string& peer) noexcept {
  std::lock_guard lock(mu_);
  auto it = open_.find(peer);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

}  // namespace zc::exporters
