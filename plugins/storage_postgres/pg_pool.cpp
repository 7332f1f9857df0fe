#include "pg_pool.h"

namespace zc::pgstorage {

Result<std::unique_ptr<PgConnection>> PgPool::acquire() {
  std::unique_lock lock(mu_);
  returned_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  ++open_;
  lock.unlock();
  auto conn = connect_();
  if (!conn.isOk()) {
    lock.lock();
    --open_;
    returned_.notify_one();
  }
  return conn;
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

void PgPool::clear() {
  std::lock_guard lock(mu_);
  open_ -= idle_.size();
  idle_.clear();
}

}  // namespace zc::pgstorage
