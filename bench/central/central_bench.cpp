// bench/central: a page of 500 lines through a fleet's central instance, next to the same query
// sent straight to PostgreSQL over libpq (what psql sends), in one run.
//
//   bench_central [--lines N] [--queries K] [--sse-clients C] [--flood-lines F] [--smoke]
//                 [--report FILE]
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
// 4. SSE (--sse-clients C, default 100; needs the Docker engine): one host collector with the
//    postgres sink (--select-label on this run's label) and C SSE clients on the central
//    instance, C more on the host collector itself (the baseline: what the host serves without
//    the trip through PostgreSQL); a container writes R = 100 lines/s for S = 10 s. Latency of a
//    line = when a client parsed its event - its engine timestamp (`ts`); p50, p99 over every
//    line and client. Goal: p99 < 250 ms through the central instance.
// 5. Forwarding (--flood-lines F, default 200,000; 0 skips it; needs the Docker engine): one host
//    collector with the postgres sink, and a container that writes F lines of about 100 bytes as
//    fast as it can, then `flood end`. From the first line's engine timestamp, the time until
//    the host has stored `flood end` (its local ingest rate, F / that time) and the time until
//    PostgreSQL holds it (the forwarding rate), both polled every 10 ms in the same run; the
//    ratio forwarding / ingest (1.0: the sink keeps up with the flood). Goal: >= 0.8. Then every
//    line is checked to be in PostgreSQL once (count = distinct lineNos = the host's last lineNo).
// --smoke: 20,000 lines, 50 queries, 5 SSE clients for 1 s, a 5,000-line flood. Without PostgreSQL 15 installed the bench says so and
// exits 0 (1 when ZC_REQUIRE_POSTGRES=1). Exit status 0 when every figure was measured.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "postgres_server.h"
#include "report.h"
#include "test_support.h"
#include "zc/clock.h"
#include "zc/model.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::bench::Better;
using zc::bench::Report;
using zc::Status;
using zc::TimeNs;
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

// C SSE clients on `port` for deployment `id` (batch=0: one event per line); each latency in ms
// (parse time - the line's ts), until `until`.
std::vector<double> sseLatencies(uint16_t port, const std::string& id, int clients,
                                 Clock::time_point until) {
  struct Conn {
    std::unique_ptr<Poco::Net::StreamSocket> s;
    std::string buf;
  };
  std::vector<Conn> conns;
  for (int i = 0; i < clients; ++i) {
    Conn c;
    c.s = std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress("127.0.0.1", port));
    std::string req = "GET /api/deployments/" + id + "/logs/stream HTTP/1.1\r\nHost: 127.0.0.1:" +
                      std::to_string(port) + "\r\nAccept: text/event-stream\r\n\r\n";
    c.s->sendBytes(req.data(), static_cast<int>(req.size()));
    conns.push_back(std::move(c));
  }
  std::vector<double> out;
  std::vector<pollfd> fds(conns.size());
  while (Clock::now() < until) {
    for (size_t i = 0; i < conns.size(); ++i) fds[i] = {conns[i].s->impl()->sockfd(), POLLIN, 0};
    if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      char chunk[65536];
      ssize_t n = ::recv(fds[i].fd, chunk, sizeof chunk, 0);
      if (n <= 0) continue;
      const TimeNs now = zc::systemClock().now();
      std::string& b = conns[i].buf;
      b.append(chunk, static_cast<size_t>(n));
      size_t eol;
      while ((eol = b.find('\n')) != std::string::npos) {
        std::string line = b.substr(0, eol);
        b.erase(0, eol + 1);
        if (line.rfind("data: {", 0) != 0) continue;
        size_t at = line.find("\"ts\":\"");
        if (at == std::string::npos) continue;
        size_t end = line.find('"', at + 6);
        auto ts = zc::parseRfc3339(line.substr(at + 6, end - at - 6));
        if (ts.isOk()) out.push_back(static_cast<double>(now - *ts) / 1e6);
      }
    }
  }
  return out;
}

// One value from `sql` (one parameter, $1 = `param`) over `conn`; "" on an error or no row.
std::string pgScalar(PGconn* conn, const std::string& sql, const std::string& param) {
  const char* params[] = {param.c_str()};
  PGresult* r = PQexecParams(conn, sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0);
  std::string out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
    out = PQgetvalue(r, 0, 0);
  }
  PQclear(r);
  return out;
}

struct FloodResult {
  bool ok = false;
  double ingestSeconds = 0;   // first line's engine ts -> `flood end` stored on the host
  double forwardSeconds = 0;  // first line's engine ts -> `flood end` in PostgreSQL
};

// Section 5: a container floods `lines` lines; the host's local ingest next to its forwarding.
FloodResult floodForward(PostgresServer& pg, const std::string& db, const std::string& dataDir,
                         long lines) {
  FloodResult res;
  const std::string tag = std::to_string(::getpid());
  const std::string url = pg.urlWithPassword(PostgresServer::kPassword, db);
  const uint16_t hostPort = zc::testing::freePort();
  zc::testing::ChildProcess host(zc::testing::collectorArgv(
      {"--data-dir", dataDir, "--listen", "127.0.0.1:" + std::to_string(hostPort),
       "--docker-socket", zc::testing::dockerSocketPath(), "--select-label",
       "zc.bench.flood=" + tag, "--host-id", "flood-host", "--sink", "postgres", "--postgres-url",
       url, "--router", "none", "--log-level", "warn"}));
  if (!zc::testing::waitHealthy(hostPort, nullptr, 30s)) {
    std::fprintf(stderr, "bench_central: the host collector did not start:\n%s\n",
                 host.err().c_str());
    return res;
  }
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return res;
  }
  const std::string dep = "bcflood" + tag;
  // About 100 bytes a line, like an agent's request log; a 3 s pause so the follow is up first.
  const std::string script =
      "sleep 3; awk 'BEGIN { for (i = 1; i <= " + std::to_string(lines) +
      "; i++) printf \"INFO agent request_id=%08d path=/api/items/%d status=200 duration_ms=%d "
      "user=u%d region=eu-west\\n\", i, i % 997, i % 113, i % 71; print \"flood end\" }'; "
      "sleep 600";
  std::string quoted;  // the script as one single-quoted word for the shell docker() runs
  for (char ch : script) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  zc::bench::docker("rm -f zynd-" + dep);
  if (zc::bench::docker("run -d --name zynd-" + dep + " --label zc.bench.flood=" + tag + " " +
                        zc::testing::testImage() + " sh -c '" + quoted + "'") != 0) {
    std::fprintf(stderr, "bench_central: docker run failed\n");
    PQfinish(conn);
    return res;
  }
  const std::string endProbe = "/api/deployments/" + dep + "/logs?q=flood%20end&since=" +
                               std::to_string(lines - 1) + "&limit=1";
  std::optional<Clock::time_point> localAt, pgAt;
  const auto deadline = Clock::now() + 300s;
  while ((!localAt || !pgAt) && Clock::now() < deadline) {
    std::string body;
    if (!localAt && zc::testing::httpGet(hostPort, endProbe, &body) == 200 &&
        body.find("\"text\":\"flood end\"") != std::string::npos) {
      localAt = Clock::now();
    }
    if (!pgAt && !pgScalar(conn,
                           "SELECT line_no FROM deployment_logs WHERE deployment_id = $1 AND "
                           "line_no > " + std::to_string(lines - 1) + " AND text = 'flood end'",
                           dep).empty()) {
      pgAt = Clock::now();
    }
    std::this_thread::sleep_for(10ms);
  }
  // The first line's engine timestamp, mapped onto the steady clock used above.
  std::string first;
  zc::testing::httpGet(hostPort, "/api/deployments/" + dep + "/logs?since=0&limit=1", &first);
  const TimeNs wallNow = zc::systemClock().now();
  const auto steadyNow = Clock::now();
  size_t at = first.find("\"ts\":\"");
  auto ts = at == std::string::npos
                ? zc::Result<TimeNs>(Status::notFound("no first line"))
                : zc::parseRfc3339(first.substr(at + 6, first.find('"', at + 6) - at - 6));
  if (localAt && pgAt && ts.isOk()) {
    const auto startedAt = steadyNow - std::chrono::nanoseconds(wallNow - *ts);
    res.ingestSeconds = ms(*localAt - startedAt) / 1000;
    res.forwardSeconds = ms(*pgAt - startedAt) / 1000;
    // Exactly once: as many rows as distinct lineNos, the last being the host's.
    const std::string counts = pgScalar(
        conn,
        "SELECT count(*) || '/' || count(DISTINCT line_no) || '/' || max(line_no) FROM "
        "deployment_logs WHERE deployment_id = $1",
        dep);
    const std::string last = pgScalar(conn,
                                      "SELECT line_no FROM deployment_logs WHERE deployment_id = "
                                      "$1 AND text = 'flood end' AND line_no > " +
                                          std::to_string(lines - 1),
                                      dep);
    res.ok = counts == last + "/" + last + "/" + last;
    if (!res.ok) std::fprintf(stderr, "bench_central: flood rows %s, last %s\n", counts.c_str(),
                              last.c_str());
  } else {
    std::fprintf(stderr, "bench_central: the flood did not complete (local %d, postgres %d)\n%s\n",
                 localAt.has_value(), pgAt.has_value(), host.err().c_str());
  }
  PQfinish(conn);
  zc::bench::docker("rm -f zynd-" + dep);
  host.signal(SIGTERM);
  host.wait(20s);
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  Report report(argc, argv);
  long lines = report.smoke() ? 20'000 : 10'000'000;
  int queries = report.smoke() ? 50 : 2000;
  int sseClients = report.smoke() ? 5 : 100;
  int sseSeconds = report.smoke() ? 1 : 10;
  long floodLines = report.smoke() ? 5'000 : 200'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--lines") == 0) lines = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--queries") == 0) queries = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--sse-clients") == 0) sseClients = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--flood-lines") == 0) floodLines = std::atol(argv[i + 1]);
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
  // What a line costs on disk: the table (with its TOAST) and its two indexes, per line.
  if (auto sizes = pg.query("SELECT pg_table_size('deployment_logs'), "
                            "pg_indexes_size('deployment_logs'), avg(octet_length(text)) FROM "
                            "(SELECT text FROM deployment_logs LIMIT 10000) s",
                            *db);
      sizes.isOk() && !sizes->empty() && lines > 0) {
    const double table = std::atof(sizes->at(0).at(0).c_str());
    const double indexes = std::atof(sizes->at(0).at(1).c_str());
    std::printf("bench_central: on disk per line: %.0f bytes (table %.0f + indexes %.0f; text "
                "%.0f bytes on average)\n",
                (table + indexes) / static_cast<double>(lines), table / static_cast<double>(lines),
                indexes / static_cast<double>(lines), std::atof(sizes->at(0).at(2).c_str()));
  }

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
  // Side by side: each page is asked both ways, in alternating order, so a load that comes and
  // goes on the machine weighs on both series alike.
  auto timed = [](auto&& page, long since, std::vector<double>* into) {
    auto a = Clock::now();
    page(since);
    into->push_back(ms(Clock::now() - a));
  };
  const size_t warmup = std::min(sinces.size(), static_cast<size_t>(std::max(20, queries / 10)));
  for (size_t i = 0; i < warmup; ++i) {
    directPage(sinces[i]);
    centralPage(sinces[i]);
  }
  for (size_t i = 0; i < sinces.size(); ++i) {
    if (i % 2 == 0) {
      timed(directPage, sinces[i], &direct);
      timed(centralPage, sinces[i], &viaCentral);
    } else {
      timed(centralPage, sinces[i], &viaCentral);
      timed(directPage, sinces[i], &direct);
    }
  }
  PQfinish(conn);

  // SSE: container -> host -> PostgreSQL -> central -> client, next to container -> host -> client.
  std::vector<double> sseCentral, sseHost;
  if (sseClients > 0) {
    const std::string tag = std::to_string(::getpid());
    const uint16_t hostPort = zc::testing::freePort();
    zc::testing::ChildProcess host(zc::testing::collectorArgv(
        {"--data-dir", dir.path() + "/host", "--listen", "127.0.0.1:" + std::to_string(hostPort),
         "--docker-socket", zc::testing::dockerSocketPath(), "--select-label",
         "zc.bench.central=" + tag, "--host-id", "bench-host", "--sink", "postgres",
         "--postgres-url", pg.urlWithPassword(PostgresServer::kPassword, *db), "--router", "none",
         "--log-level", "warn"}));
    const std::string dep = "bcsse" + tag;
    const int total = 100 * (sseSeconds + 3);
    // 100 lines/s (10 every 100 ms), after a 2 s pause for the clients to connect.
    const std::string script = "sleep 4; i=0; while [ $i -lt " + std::to_string(total) +
                               " ]; do j=0; while [ $j -lt 10 ]; do echo \"sse line $i\"; "
                               "i=$((i+1)); j=$((j+1)); done; sleep 0.1; done; sleep 30";
    zc::bench::docker("rm -f zynd-" + dep);
    if (zc::bench::docker("run -d --name zynd-" + dep + " --label zc.bench.central=" + tag + " " +
                          zc::testing::testImage() + " sh -c '" + script + "'") != 0) {
      std::fprintf(stderr, "bench_central: docker run failed\n");
      ok = false;
    } else {
      // Both the host and the central instance know the deployment before the clients open.
      zc::testing::waitFor([&] {
        std::string b1, b2;
        return zc::testing::httpGet(hostPort, "/api/deployments/" + dep, &b1) == 200 &&
               zc::testing::httpGet(port, "/api/deployments/" + dep, &b2) == 200;
      }, 30s, 100ms);
      const auto until = Clock::now() + std::chrono::seconds(sseSeconds + 4);
      std::thread viaHost([&] { sseHost = sseLatencies(hostPort, dep, sseClients, until); });
      sseCentral = sseLatencies(port, dep, sseClients, until);
      viaHost.join();
    }
    zc::bench::docker("rm -f zynd-" + dep);
    host.signal(SIGTERM);
    host.wait(20s);
    if (sseCentral.empty() || sseHost.empty()) {
      std::fprintf(stderr, "bench_central: no SSE event received\n");
      ok = false;
    }
  }
  FloodResult flood;
  if (floodLines > 0) {
    flood = floodForward(pg, *db, dir.path() + "/flood", floodLines);
    ok = ok && flood.ok;
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
  if (!sseCentral.empty()) {
    char sseScenario[128];
    std::snprintf(sseScenario, sizeof sseScenario,
                  "container -> SSE client, %d clients, 100 lines/s", sseClients);
    for (double q : {0.5, 0.99}) {
      zc::bench::Figure f;
      f.section = "central";
      f.scenario = sseScenario;
      f.figure = q == 0.5 ? "latency p50" : "latency p99";
      f.unit = "ms";
      f.value = quantile(sseCentral, q);
      f.baseline = "the host collector's own SSE (no PostgreSQL)";
      f.baselineValue = quantile(sseHost, q);
      f.better = Better::kLower;
      f.note = q == 0.5 ? "" : "goal: p99 < 250 ms";
      report.add(f);
    }
  }
  if (floodLines > 0) {
    char floodScenario[128];
    std::snprintf(floodScenario, sizeof floodScenario, "a %ld-line flood into one host", floodLines);
    zc::bench::Figure f;
    f.section = "central";
    f.scenario = floodScenario;
    f.figure = "forwarding rate to PostgreSQL";
    f.unit = "lines/s";
    f.value = static_cast<double>(floodLines) / flood.forwardSeconds;
    f.baseline = "the host's local ingest rate (RocksDB)";
    f.baselineValue = static_cast<double>(floodLines) / flood.ingestSeconds;
    f.better = Better::kHigher;
    f.note = "goal: ratio >= 0.8";
    report.add(f);
  }
  return 0;
}
