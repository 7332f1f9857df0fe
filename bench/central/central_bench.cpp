// bench/central: a page of 500 lines through a fleet's central instance, next to the same query
// sent straight to PostgreSQL over libpq (what psql sends), in one run.
//
//   bench_central [--lines N] [--queries K] [--smoke] [--report FILE]
//
// 1. A PostgreSQL 15 of its own (tests/support/postgres_server.h: initdb in a temporary folder,
//    loopback, stopped by pid). The central instance (zynd-collector --runtime none --storage
//    postgres) is started first: it creates the schema. Then N lines (default 10,000,000) of one
//    deployment are inserted with generate_series (agent-like text, 60-90 bytes, one microsecond
//    apart within the last hour), with the row, the host and the forward cursor a sink would
//    have written; ANALYZE.
// 2. Baseline: K pages (default 2,000) of `SELECT line_no, stream, ts, text, truncated FROM
//    deployment_logs WHERE deployment_id = $1 AND line_no > $2 ORDER BY line_no LIMIT 500` at a
//    random since, over one libpq connection, each timed to the last row received; p50, p99.
// 3. Value: the same K pages as GET /api/deployments/<id>/logs?since=<n>&limit=500 from the
//    central instance over one keep-alive connection, each timed to the last byte of the body
//    (every answer checked: 200, 500 lines from since + 1); p50, p99. The central instance runs
//    its full read: the row check, one REPEATABLE READ snapshot with nextLineNo, oldestLineNo and
//    the page (retention filters included), and the JSON.
// Goal (docs/fleet.md): p99 <= 10 ms through the central instance.
// --smoke: 100,000 lines, 200 queries. Without PostgreSQL 15 installed the bench says so and
// exits 0 (1 when ZC_REQUIRE_POSTGRES=1). Exit status 0 when every figure was measured.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "collector_process.h"
#include "postgres_server.h"
#include "report.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::bench::Better;
using zc::bench::Report;
using zc::Status;
using zc::testing::PostgresServer;

constexpr const char* kId = "bench-central";

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

bool fill(PostgresServer& pg, const std::string& db, long lines) {
  const std::string n = std::to_string(lines);
  const char* statements[] = {
      "INSERT INTO hosts (host_id, advertise_url, version) VALUES ('bench-host', NULL, 'bench')",
      "INSERT INTO deployments (id, host, name, status, created_at) VALUES ('bench-central', "
      "'bench-host', 'bench', 'running', now())",
      nullptr,
      nullptr,
      "ANALYZE deployment_logs",
  };
  std::string logs =
      "INSERT INTO deployment_logs (deployment_id, line_no, stream, ts, text) SELECT "
      "'bench-central', g, CASE WHEN g % 50 = 0 THEN 'stderr' ELSE 'stdout' END, now() - "
      "interval '1 hour' + g * interval '1 microsecond', 'INFO agent request_id=' || "
      "substr(md5(g::text), 1, 16) || ' path=/api/items/' || (g % 997) || ' status=200 "
      "duration_ms=' || (g % 113) FROM generate_series(1, " + n + ") g";
  std::string cursor = "INSERT INTO forward_cursors (host_id, deployment_id, last_line_no) VALUES "
                       "('bench-host', 'bench-central', " + n + ")";
  for (int i = 0; i < 5; ++i) {
    std::string sql = statements[i] ? statements[i] : (i == 2 ? logs : cursor);
    auto r = pg.query(sql, db);
    if (!r.isOk()) {
      std::fprintf(stderr, "bench_central: %s\n", r.status().toString().c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Report report(argc, argv);
  long lines = report.smoke() ? 100'000 : 10'000'000;
  int queries = report.smoke() ? 200 : 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--lines") == 0) lines = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--queries") == 0) queries = std::atoi(argv[i + 1]);
  }
  if (!PostgresServer::installed()) {
    std::printf("bench_central: PostgreSQL 15 is not installed; skipped\n");
    return PostgresServer::required() ? 1 : 0;
  }
  PostgresServer pg;
  if (Status st = pg.start(); !st.isOk()) {
    std::fprintf(stderr, "bench_central: %s\n", st.toString().c_str());
    return 1;
  }
  auto db = pg.createDatabase();
  if (!db.isOk()) return 1;
  zc::testing::TempDir dir;
  const uint16_t port = zc::testing::freePort();
  zc::testing::ChildProcess central(zc::testing::collectorArgv(
      {"--runtime", "none", "--storage", "postgres", "--postgres-url",
       pg.urlWithPassword(PostgresServer::kPassword, *db), "--listen",
       "127.0.0.1:" + std::to_string(port), "--data-dir", dir.path(), "--router", "none",
       "--log-level", "warn"}));
  if (!zc::testing::waitHealthy(port, nullptr, 30s)) {
    std::fprintf(stderr, "bench_central: the central instance did not start:\n%s\n",
                 central.err().c_str());
    return 1;
  }
  const auto t0 = Clock::now();
  if (!fill(pg, *db, lines)) return 1;
  std::printf("bench_central: %ld lines inserted in %.1f s\n", lines, ms(Clock::now() - t0) / 1000);

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<long> pick(0, std::max(0L, lines - 500));
  std::vector<long> sinces(static_cast<size_t>(queries));
  for (long& s : sinces) s = pick(rng);

  // Baseline: the page query straight over libpq.
  PGconn* conn = PQconnectdb(pg.urlWithPassword(PostgresServer::kPassword, *db).c_str());
  if (PQstatus(conn) != CONNECTION_OK) return 1;
  std::vector<double> direct;
  bool ok = true;
  auto directPage = [&](long since) {
    std::string s = std::to_string(since);
    const char* params[] = {kId, s.c_str()};
    PGresult* r = PQexecParams(conn,
                               "SELECT line_no, stream, ts, text, truncated FROM deployment_logs "
                               "WHERE deployment_id = $1 AND line_no > $2 ORDER BY line_no LIMIT 500",
                               2, nullptr, params, nullptr, nullptr, 0);
    ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 500;
    PQclear(r);
  };
  for (int i = 0; i < std::max(20, queries / 10); ++i) directPage(sinces[static_cast<size_t>(i)]);
  for (long since : sinces) {
    auto a = Clock::now();
    directPage(since);
    direct.push_back(ms(Clock::now() - a));
  }
  PQfinish(conn);

  // Value: through the central instance's REST API, one keep-alive connection.
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setKeepAlive(true);
  std::vector<double> viaCentral;
  auto centralPage = [&](long since) {
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET,
                               std::string("/api/deployments/") + kId + "/logs?limit=500&since=" +
                                   std::to_string(since),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost("127.0.0.1:" + std::to_string(port));
    session.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(resp), body);
    ok = ok && resp.getStatus() == 200 &&
         body.find("\"lineNo\":" + std::to_string(since + 1) + ",") != std::string::npos &&
         body.find("\"lineNo\":" + std::to_string(since + 500) + ",") != std::string::npos &&
         body.find("\"lineNo\":" + std::to_string(since + 501) + ",") == std::string::npos;
  };
  for (int i = 0; i < std::max(20, queries / 10); ++i) centralPage(sinces[static_cast<size_t>(i)]);
  for (long since : sinces) {
    auto a = Clock::now();
    centralPage(since);
    viaCentral.push_back(ms(Clock::now() - a));
  }
  central.signal(SIGTERM);
  central.wait(20s);
  if (!ok) {
    std::fprintf(stderr, "bench_central: a page was wrong\n");
    return 1;
  }
  char scenario[128];
  std::snprintf(scenario, sizeof scenario, "500-line page over %ld lines in PostgreSQL", lines);
  const std::string baseline = "the same SELECT over libpq (as psql)";
  for (double q : {0.5, 0.99}) {
    zc::bench::Figure f;
    f.section = "central";
    f.scenario = scenario;
    f.figure = q == 0.5 ? "p50" : "p99";
    f.unit = "ms";
    f.value = quantile(viaCentral, q);
    f.baseline = baseline;
    f.baselineValue = quantile(direct, q);
    f.better = Better::kLower;
    f.note = q == 0.5 ? "" : "goal: p99 <= 10 ms";
    report.add(f);
  }
  return 0;
}
