// PgPool: a bounded set of libpq connections shared by the threads of one storage plugin.
//
// with() lends one connection to a callable, connecting a new one when none is idle and fewer
// than `size` exist, else waiting for one to come back. A connection the callable leaves broken
// (libpq no longer CONNECTION_OK) is dropped, so a restarted server costs the statements in
// flight, never the pool. Thread-safe.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pg_conn.h"

namespace zc::pgstorage {

using ::zc::pg::PgConnection;

class PgPool {
 public:
  // `connect` opens one connection (connection parameters, settings such as statement_timeout).
  PgPool(std::function<Result<std::unique_ptr<PgConnection>>()> connect, size_t size)
      : connect_(std::move(connect)), size_(size) {}

  // Runs fn(PgConnection&) -> Status or Result<T> on a lent connection; Unavailable when none
  // can be connected.
  template <typename Fn>
  auto with(Fn&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    auto conn = acquire();
    if (!conn.isOk()) return conn.status();
    // Given back however fn() ends (an exception included).
    struct GiveBack {
      PgPool& pool;
      std::unique_ptr<PgConnection> conn;
      ~GiveBack() { pool.release(std::move(conn)); }
    } lent{*this, std::move(conn).value()};
    return fn(*lent.conn);
  }

  // Drops every idle connection (close()).
  void clear();

 private:
  Result<std::unique_ptr<PgConnection>> acquire();
  void release(std::unique_ptr<PgConnection> conn);

  std::function<Result<std::unique_ptr<PgConnection>>()> connect_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                  // lent + idle; guarded by mu_
};

}  // namespace zc::pgstorage
