// PgConnection: one libpq connection, its statements and their failures as Status.
//
// Every value travels as a separate text parameter (PQexecParams); SQL text is never built from
// values. A lost connection (libpq reports CONNECTION_BAD, or the server answers with SQLSTATE
// class 08 or 57P0x, e.g. during a shutdown) is Unavailable: the caller drops the object and
// connects again later. Any other failure is Internal with the server's SQLSTATE and message.
// Not thread-safe: one owner at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "zc/status.h"

namespace zc::pg {

using PgParams = std::vector<std::optional<std::string>>;  // nullopt = SQL NULL

// The answer of one statement. OWNERSHIP: owns the PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool isNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // The value's bytes (a text column in either format).
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  // A number in a text-format result.
  int64_t integer(int row, int col) const;
  // Values of a binary-format result (execPrepared(..., kBinary)): a bigint, a boolean, and a
  // timestamptz as microseconds since the Unix epoch (exact).
  int64_t int8(int row, int col) const;
  bool boolean(int row, int col) const;
  int64_t timestamptzMicros(int row, int col) const;
  // The rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const;
  // A bytea column in text (hex) format, decoded.
  std::string bytes(int row, int col) const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgConnection {
 public:
  // Connects with libpq keyword/value pairs (the first may be "dbname" holding a whole conninfo
  // string or URI, expanded by libpq; later pairs override what it says). `target` names the
  // server in messages (no secrets). Unavailable with libpq's reason on failure.
  static Result<std::unique_ptr<PgConnection>> connect(
      const std::vector<std::pair<std::string, std::string>>& params, const std::string& target);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Result<PgResult> exec(const std::string& sql, const PgParams& params = {});
  enum class Format { kText, kBinary };
  // exec() as a prepared statement of this connection: `sql` is parsed once per connection (the
  // first call prepares it, named after a counter) and then only executed, with a plan the
  // server may keep. The result in text or binary format (PgResult::int8() etc. for binary).
  Result<PgResult> execPrepared(const std::string& sql, const PgParams& params,
                                Format result = Format::kText);
  // exec() for statements whose answer does not matter.
  Status run(const std::string& sql, const PgParams& params = {});
  // Several statements without parameters (PQexec), e.g. a migration.
  Status script(const std::string& sql);
  // Runs `copySql` (a `COPY ... FROM STDIN`) and sends `data` (in the COPY's format, e.g.
  // PgCopyWriter's) as its input; OK once the server has stored every row. On a failure the
  // transaction it ran in is aborted, as after any failed statement.
  Status copyIn(const std::string& copySql, const std::string& data);
  // The SQLSTATE of the last failed statement ("" when the last one succeeded or libpq failed
  // before the server answered), e.g. "23505" for a unique violation.
  const std::string& lastSqlState() const { return sqlState_; }
  bool healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The socket, for waiting on notifications (LISTEN).
  int socket() const { return PQsocket(conn_); }
  // Reads what the server sent and returns the notifications received (channel, payload), or
  // Unavailable when the connection is lost.
  Result<std::vector<std::pair<std::string, std::string>>> notifications();

 private:
  PgConnection(PGconn* conn, std::string target) : conn_(conn), target_(std::move(target)) {}
  // Takes `r` (may be null): the answer, or the failure as Unavailable / Internal.
  Result<PgResult> check(PGresult* r);
  PGconn* conn_;
  std::string target_;
  std::string sqlState_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

}  // namespace zc::pg
