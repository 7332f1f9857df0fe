#include "pg_conn.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace zc::pg {
namespace {

std::string oneLine(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace

int64_t PgResult::integer(int row, int col) const {
  const char* v = PQgetvalue(r_.get(), row, col);
  int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

namespace {

int64_t bigEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<int64_t>(v);
}

// PostgreSQL's timestamps count microseconds from 2000-01-01 00:00:00 UTC.
constexpr int64_t kPgEpochMicros = 946'684'800'000'000;

}  // namespace

int64_t PgResult::int8(int row, int col) const {
  if (PQgetlength(r_.get(), row, col) != 8) return 0;
  return bigEndian(PQgetvalue(r_.get(), row, col), 8);
}

bool PgResult::boolean(int row, int col) const {
  return PQgetlength(r_.get(), row, col) == 1 && PQgetvalue(r_.get(), row, col)[0] != 0;
}

int64_t PgResult::timestamptzMicros(int row, int col) const {
  return int8(row, col) + kPgEpochMicros;
}

int64_t PgResult::affected() const {
  const char* v = PQcmdTuples(r_.get());
  int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

std::string PgResult::bytes(int row, int col) const {
  size_t n = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<char*>(raw), n);
  PQfreemem(raw);
  return out;
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(
    const std::vector<std::pair<std::string, std::string>>& params, const std::string& target) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return Status::unavailable("postgres " + target + ": out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = oneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::unavailable("postgres " + target + ": " + why);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn, target));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Result<PgResult> PgConnection::exec(const std::string& sql, const PgParams& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0));
}

Result<PgResult> PgConnection::execPrepared(const std::string& sql, const PgParams& params,
                                            Format result) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "zc_" + std::to_string(prepared_.size() + 1);
    ZC_RETURN_IF_ERROR(check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr)).status());
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr,
                              result == Format::kBinary ? 1 : 0));
}

Status PgConnection::script(const std::string& sql) { return check(PQexec(conn_, sql.c_str())).status(); }

Result<PgResult> PgConnection::check(PGresult* r) {
  // PQresultStatus(nullptr) is PGRES_FATAL_ERROR (libpq could not send at all).
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    sqlState_.clear();
    return PgResult(r);
  }
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  sqlState_ = sqlstate;
  std::string why = oneLine(r != nullptr && PQresultErrorMessage(r)[0] != '\0'
                                ? PQresultErrorMessage(r)
                                : PQerrorMessage(conn_));
  PQclear(r);
  const bool lost = PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
                    sqlstate.rfind("57P0", 0) == 0;
  std::string message = "postgres " + target_ + ": " + (sqlstate.empty() ? "" : sqlstate + " ") + why;
  return lost ? Status::unavailable(message) : Status::internal(message);
}

Result<std::vector<std::pair<std::string, std::string>>> PgConnection::notifications() {
  if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
    return Status::unavailable("postgres " + target_ + ": " + oneLine(PQerrorMessage(conn_)));
  }
  std::vector<std::pair<std::string, std::string>> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->relname, n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

Status PgConnection::copyIn(const std::string& copySql, const std::string& data) {
  PGresult* start = PQexec(conn_, copySql.c_str());
  if (PQresultStatus(start) != PGRES_COPY_IN) return check(start).status();
  PQclear(start);
  // Blocking connection: PQputCopyData queues (and flushes) and only fails when the connection
  // is lost. Chunks of 1 MiB keep libpq's buffer small.
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t at = 0; sent && at < data.size(); at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "client could not send") != 1) sent = false;
  // The COPY's own result, then the null that ends the command.
  Status st = check(PQgetResult(conn_)).status();
  while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  if (st.isOk() && !sent) {
    return Status::unavailable("postgres " + target_ + ": " + oneLine(PQerrorMessage(conn_)));
  }
  return st;
}

Status PgConnection::run(const std::string& sql, const PgParams& params) {
  return exec(sql, params).status();
}

}  // namespace zc::pg
