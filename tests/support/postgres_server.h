// A real PostgreSQL 15 for tests: Debian's initdb + postgres, run as an unprivileged user (the
// `postgres` system user, else `nobody`: the server refuses to run as root) in a temporary
// folder, listening on a free loopback port only. Stopped by its pid (never by name); the folder
// is removed with the object.
//
// Tests that need it call ZC_REQUIRE_POSTGRES_OR_SKIP(): without PostgreSQL 15 installed they
// skip, unless ZC_REQUIRE_POSTGRES=1 (set by test.sh and CI), where they fail.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "test_support.h"
#include "zc/status.h"

namespace zc::testing {

class PostgresServer {
 public:
  static constexpr const char* kUser = "zc";
  static constexpr const char* kPassword = "zc-test-secret";

  // True when /usr/lib/postgresql/15/bin/{initdb,postgres} exist.
  static bool installed();
  static bool required();

  PostgresServer();
  ~PostgresServer();  // stops the server (by pid) and removes the folder
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // initdb (superuser kUser with kPassword, scram-sha-256, UTF8) on first call, then starts the
  // server and waits (up to 20 s) until it accepts connections. Starting again after stop()
  // reuses the data and the port.
  Status start();
  // Fast shutdown (SIGINT to the postmaster), waits up to 20 s, then SIGKILL.
  void stop();
  bool running() const { return pid_ > 0; }

  uint16_t port() const { return port_; }
  // "postgresql://zc@127.0.0.1:<port>/<db>" (no password: give it separately).
  std::string url(const std::string& db = "postgres") const;
  // url() with `password` in it.
  std::string urlWithPassword(const std::string& password = kPassword,
                              const std::string& db = "postgres") const;
  // Creates a fresh, empty database ("t1", "t2", ...) so tests can share one server.
  Result<std::string> createDatabase();

  // Runs one SQL statement as kUser; every row's columns as text (NULL as "<null>").
  Result<std::vector<std::vector<std::string>>> query(const std::string& sql,
                                                      const std::string& db = "postgres") const;
  // query() expecting exactly one value.
  Result<std::string> scalar(const std::string& sql, const std::string& db = "postgres") const;

 private:
  TempDir dir_;
  std::string dataDir_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  bool initialised_ = false;
  int databases_ = 0;
};

#define ZC_REQUIRE_POSTGRES_OR_SKIP()                                                  \
  do {                                                                                 \
    if (!::zc::testing::PostgresServer::installed()) {                                 \
      if (::zc::testing::PostgresServer::required()) FAIL() << "PostgreSQL 15 required"; \
      GTEST_SKIP() << "PostgreSQL 15 is not installed";                                \
    }                                                                                  \
  } while (0)

}  // namespace zc::testing
