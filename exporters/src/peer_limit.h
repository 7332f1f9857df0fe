// The per-peer connection cap: how many connections each peer address has open on the HTTP
// server, so that one client cannot take the whole global cap (maxQueued). The reactor asks for
// a lease when it accepts; the lease lives in the connection and gives the slot back when the
// connection is destroyed (closed, or handed away to the SSE hub, which has its own cap).
//
// Thread-safety: every method may be called from any thread (one mutex). A lease must not
// outlive its PeerLimit.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace zc::exporters {

class PeerLimit;

// One counted connection; empty (counts nothing) when default-constructed or moved from.
class PeerLease {
 public:
  PeerLease() = default;
  PeerLease(PeerLimit* limit, std::string key) : limit_(limit), key_(std::move(key)) {}
  ~PeerLease();
  PeerLease(PeerLease&& o) noexcept : limit_(o.limit_), key_(std::move(o.key_)) {
    o.limit_ = nullptr;
  }
  PeerLease& operator=(PeerLease&& o) noexcept;
  PeerLease(const PeerLease&) = delete;
  PeerLease& operator=(const PeerLease&) = delete;

 private:
  PeerLimit* limit_ = nullptr;
  std::string key_;
};

class PeerLimit {
 public:
  // `maxPerPeer` 0 = no cap (leases are still counted).
  explicit PeerLimit(size_t maxPerPeer) : max_(maxPerPeer) {}
  // A lease for one more connection of `peer` (the address bytes), or false at the cap.
  bool tryAcquire(const std::string& peer, PeerLease& lease);
  // Open connections of `peer` (for tests).
  size_t count(const std::string& peer) const;

 private:
  friend class PeerLease;
  void release(const std::string& peer) noexcept;

  const size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;
};

}  // namespace zc::exporters
