// GET /metrics: the exposition, `promtool check metrics`, and a REAL Prometheus scraping the test
// server on loopback and answering a query for a deployment series (label "prometheus"), over
// plain HTTP and over TLS with a bearer token (tls_config.ca_file, authorization.credentials_file).
// Without prometheus/promtool on PATH the tools tests skip, or fail when ZC_REQUIRE_PROMETHEUS=1.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "exporter_fixture.h"
#include "test_support.h"
#include "tls_test_client.h"
#include "zc/exporters/access.h"
#include "zc/exporters/tokens.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::httpRequest;

bool prometheusRequired() {
  const char* s = std::getenv("ZC_REQUIRE_PROMETHEUS");
  return s && std::string(s) == "1";
}

bool onPath(const std::string& tool) {
  return zc::testing::runCommand("command -v " + tool + " >/dev/null 2>&1") == 0;
}

#define ZC_REQUIRE_TOOL_OR_SKIP(tool)                                          \
  do {                                                                         \
    if (!onPath(tool)) {                                                       \
      if (prometheusRequired()) FAIL() << tool << " required but not on PATH"; \
      GTEST_SKIP() << tool << " not on PATH";                                  \
    }                                                                          \
  } while (0)

zc::host::DeploymentGauges gaugesFor(const std::string& id, zc::DeploymentStatus status) {
  zc::host::DeploymentGauges g;
  g.row.id = id;
  g.row.name = "free text \"must\" not become a label";
  g.row.status = status;
  g.row.lastExitCode = 137;
  g.hasSample = true;
  g.cpuSecondsTotal = 12.5;
  g.cpuPct = 42.5;
  g.memUsedBytes = 123456789;
  g.memLimitBytes = 1536.0 * 1024 * 1024;
  g.linesStdout = 10;
  g.linesStderr = 2;
  g.linesSystem = 1;
  g.crashes = 3;
  g.consecutiveHealthFailures = 2;
  return g;
}

bool contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(MetricsTest, ExpositionHasEveryFamilyLabelledByDeploymentOnly) {
  ExporterStack stack;
  zc::host::CollectorGauges c;
  c.linesIngested = 100;
  c.bytesIngested = 4096;
  c.batchesCommitted = 7;
  c.ingestLagSeconds = 0.25;
  c.storageBytes = 1 << 20;
  c.runtimeConnected = true;
  c.retentionRuns = 2;
  c.retentionDeletedLogLines = 5;
  stack.api->setCollectorGauges(c);
  stack.api->setDeploymentGauges({gaugesFor("dep-a", zc::DeploymentStatus::kUnhealthy)});
  auto r = httpRequest(stack.port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = r.body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_seconds_total{deployment=\"dep-a\"} 12.5")) << t;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_percent{deployment=\"dep-a\"} 42.5"));
  EXPECT_TRUE(contains(t, "zynd_deployment_memory_used_bytes{deployment=\"dep-a\"} 123456789"));
  EXPECT_TRUE(contains(t, "zynd_deployment_memory_limit_bytes{deployment=\"dep-a\"} 1610612736"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"crashed\"} 0"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"running\"} 0"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"unhealthy\"} 1"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"stopped\"} 0"));
  EXPECT_TRUE(
      contains(t, "zynd_deployment_log_lines_total{deployment=\"dep-a\",stream=\"stderr\"} 2"));
  EXPECT_TRUE(contains(t, "zynd_deployment_crashes_total{deployment=\"dep-a\"} 3"));
  EXPECT_TRUE(contains(t, "zynd_deployment_health_consecutive_failures{deployment=\"dep-a\"} 2"));
  EXPECT_TRUE(contains(t, "zynd_deployment_last_exit_code{deployment=\"dep-a\"} 137"));
  EXPECT_TRUE(contains(t, "zynd_collector_log_lines_ingested_total 100"));
  EXPECT_TRUE(contains(t, "zynd_collector_ingest_lag_seconds 0.25"));
  EXPECT_TRUE(contains(t, "zynd_collector_storage_healthy 1"));
  EXPECT_TRUE(contains(t, "zynd_collector_runtime_connected 1"));
  EXPECT_TRUE(contains(t, "zynd_collector_retention_deleted_log_lines_total 5"));
  EXPECT_TRUE(contains(t, "zynd_collector_sse_clients 0"));
  // Free text (a name) is a label of zynd_deployment_info only, the series made for joins.
  std::istringstream lines(t);
  for (std::string line; std::getline(lines, line);) {
    if (contains(line, "free text")) {
      EXPECT_EQ(line.rfind("zynd_deployment_info{", 0), 0u) << line;
    }
  }
}

// zynd_deployment_info: one series per deployment (value 1) with its name, slug, kind and host,
// replaced when they change and gone with the deployment; values bounded and valid UTF-8.
TEST(MetricsTest, DeploymentInfoCarriesNameSlugKindHostForJoins) {
  ExporterStack stack;
  zc::host::CollectorGauges c;
  c.hostId = "host-1";
  stack.api->setCollectorGauges(c);
  auto a = gaugesFor("dep-a", zc::DeploymentStatus::kRunning);
  a.row.name = "Billing agent";
  a.row.slug = "billing";
  a.row.entityType = "agent";
  stack.api->setDeploymentGauges({a});
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_info{deployment=\"dep-a\",host=\"host-1\","
                          "kind=\"agent\",name=\"Billing agent\",slug=\"billing\"} 1\n"))
      << t;
  a.row.name = std::string(300, 'x') + "\xff";
  a.row.host = "host-2";
  a.row.slug = "bad\xff";
  stack.api->setDeploymentGauges({a});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_FALSE(contains(t, "Billing agent")) << t;  // the old series is replaced, not kept
  EXPECT_TRUE(contains(t, "host=\"host-2\",kind=\"agent\",name=\"" + std::string(128, 'x') +
                              "\",slug=\"bad\xEF\xBF\xBD\"} 1\n")) << t;
  stack.api->setDeploymentGauges({});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_FALSE(contains(t, "zynd_deployment_info{")) << t;
}

// process_* describe the serving process itself (read from /proc at each scrape), and
// zynd_collector_build_info names the version and the git revision built.
TEST(MetricsTest, ProcessAndBuildSeriesDescribeThisProcess) {
  ExporterStack stack;
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  auto value = [&](const std::string& name) {
    size_t at = t.find("\n" + name + " ");
    if (at == std::string::npos) return -1.0;
    return std::stod(t.substr(at + name.size() + 2));
  };
  EXPECT_GE(value("process_cpu_seconds_total"), 0) << t;
  EXPECT_GT(value("process_resident_memory_bytes"), 1 << 20) << t;
  EXPECT_GT(value("process_open_fds"), 2) << t;
  EXPECT_GE(value("process_max_fds"), value("process_open_fds")) << t;
  EXPECT_GT(value("process_threads"), 16) << t;  // at least the HTTP workers
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(value("process_start_time_seconds"), now + 1) << t;
  EXPECT_GT(value("process_start_time_seconds"), now - 3600) << t;
  EXPECT_TRUE(contains(t, "# TYPE process_cpu_seconds_total counter")) << t;
  size_t b = t.find("zynd_collector_build_info{revision=\"");
  ASSERT_NE(b, std::string::npos) << t;
  std::string rest = t.substr(b, t.find('\n', b) - b);
  EXPECT_TRUE(std::regex_match(
      rest, std::regex(R"re(zynd_collector_build_info\{revision="([0-9a-f]{7,40}|unknown)",)re"
                       R"re(version="[0-9]+\.[0-9]+\.[0-9]+"\} 1)re")))
      << rest;
}

// HTTP requests are counted by route pattern, method and code; the raw path never becomes a
// label (a client cannot grow the series), nor does an unknown method.
TEST(MetricsTest, HttpRequestsAreCountedByRoutePatternNeverByPath) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(httpRequest(stack.port(), "GET", "/api/deployments/d1").status, 200);
  }
  ASSERT_EQ(httpRequest(stack.port(), "GET", "/api/deployments/zzz-unknown").status, 404);
  ASSERT_EQ(httpRequest(stack.port(), "GET", "/no/such/path-123").status, 404);
  ASSERT_EQ(httpRequest(stack.port(), "BREW", "/api/ports").status, 405);
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_collector_http_requests_total{code=\"200\",method=\"GET\","
                          "route=\"/api/deployments/{id}\"} 3\n")) << t;
  EXPECT_TRUE(contains(t, "zynd_collector_http_requests_total{code=\"404\",method=\"GET\","
                          "route=\"/api/deployments/{id}\"} 1\n")) << t;
  EXPECT_TRUE(contains(t, "zynd_collector_http_requests_total{code=\"404\",method=\"GET\","
                          "route=\"unmatched\"} 1\n")) << t;
  EXPECT_TRUE(contains(t, "zynd_collector_http_requests_total{code=\"405\",method=\"other\","
                          "route=\"/api/ports\"} 1\n")) << t;
  EXPECT_TRUE(contains(t, "zynd_collector_http_request_duration_seconds_count{method=\"GET\","
                          "route=\"/api/deployments/{id}\"} 4\n")) << t;
  EXPECT_TRUE(contains(t, "zynd_collector_http_request_duration_seconds_bucket{method=\"GET\","
                          "route=\"/api/deployments/{id}\",le=\"+Inf\"} 4\n")) << t;
  EXPECT_FALSE(contains(t, "zzz-unknown")) << t;
  EXPECT_FALSE(contains(t, "path-123")) << t;
  EXPECT_FALSE(contains(t, "BREW")) << t;
  // The scrape itself is counted from the next one on.
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_collector_http_requests_total{code=\"200\",method=\"GET\","
                          "route=\"/metrics\"} 1\n")) << t;
}

TEST(MetricsTest, SeriesOfRemovedDeploymentsDisappearAndCountersOnlyGrow) {
  ExporterStack stack;
  auto a = gaugesFor("dep-a", zc::DeploymentStatus::kRunning);
  auto b = gaugesFor("dep-b", zc::DeploymentStatus::kRunning);
  b.hasSample = false;
  b.row.lastExitCode.reset();
  stack.api->setDeploymentGauges({a, b});
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "deployment=\"dep-b\""));
  EXPECT_FALSE(contains(t, "zynd_deployment_memory_used_bytes{deployment=\"dep-b\"}"));
  EXPECT_FALSE(contains(t, "zynd_deployment_last_exit_code{deployment=\"dep-b\"}"));
  a.linesStdout = 25;
  a.row.status = zc::DeploymentStatus::kUnhealthy;
  stack.api->setDeploymentGauges({a});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_FALSE(contains(t, "deployment=\"dep-b\"")) << t;
  EXPECT_TRUE(
      contains(t, "zynd_deployment_log_lines_total{deployment=\"dep-a\",stream=\"stdout\"} 25"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"unhealthy\"} 1"));
  EXPECT_TRUE(contains(t, "zynd_deployment_status{deployment=\"dep-a\",status=\"running\"} 0"));
}

TEST(MetricsTest, ResourceSeriesOfADeploymentThatDoesNotRunAreAbsent) {
  ExporterStack stack;
  auto a = gaugesFor("dep-a", zc::DeploymentStatus::kRunning);
  stack.api->setDeploymentGauges({a});
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_percent{deployment=\"dep-a\"} 42.5")) << t;
  for (auto status : {zc::DeploymentStatus::kStopped, zc::DeploymentStatus::kCrashed}) {
    a.row.status = status;  // a last sample still there must not be shown as current
    stack.api->setDeploymentGauges({a});
    t = httpRequest(stack.port(), "GET", "/metrics").body;
    EXPECT_FALSE(contains(t, "zynd_deployment_cpu_percent{deployment=\"dep-a\"}")) << t;
    EXPECT_FALSE(contains(t, "zynd_deployment_cpu_seconds_total{deployment=\"dep-a\"}")) << t;
    EXPECT_FALSE(contains(t, "zynd_deployment_memory_used_bytes{deployment=\"dep-a\"}")) << t;
    EXPECT_FALSE(contains(t, "zynd_deployment_memory_limit_bytes{deployment=\"dep-a\"}")) << t;
    EXPECT_TRUE(contains(t, "zynd_deployment_log_lines_total{deployment=\"dep-a\",stream=\"stdout\"} 10"));
  }
  a.row.status = zc::DeploymentStatus::kRunning;  // running again: back with the new sample
  a.cpuPct = 7;
  stack.api->setDeploymentGauges({a});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_percent{deployment=\"dep-a\"} 7")) << t;
}

TEST(MetricsTest, CpuSecondsFollowTheContainerAndANewRunStartsTheCounterAgain) {
  ExporterStack stack;
  auto a = gaugesFor("dep-a", zc::DeploymentStatus::kRunning);
  a.cpuSecondsTotal = 40;
  stack.api->setDeploymentGauges({a});
  auto t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_seconds_total{deployment=\"dep-a\"} 40")) << t;
  a.cpuSecondsTotal = 41.5;
  stack.api->setDeploymentGauges({a});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_seconds_total{deployment=\"dep-a\"} 41.5")) << t;
  a.cpuSecondsTotal = 2;  // a restarted container counts from zero: a counter reset
  stack.api->setDeploymentGauges({a});
  t = httpRequest(stack.port(), "GET", "/metrics").body;
  EXPECT_TRUE(contains(t, "zynd_deployment_cpu_seconds_total{deployment=\"dep-a\"} 2\n")) << t;
  // Nothing counts malformed engine frames: no such series.
  EXPECT_FALSE(contains(t, "zynd_collector_parse_errors_total")) << t;
}

TEST(MetricsTest, SseClientsAreCounted) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  zc::testing::SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  ASSERT_TRUE(zc::testing::waitFor(
      [&] {
        return contains(httpRequest(stack.port(), "GET", "/metrics").body,
                        "zynd_collector_sse_clients 1");
      },
      5s));
}

TEST(PromtoolTest, CheckMetricsIsClean) {
  ZC_REQUIRE_TOOL_OR_SKIP("promtool");
  ExporterStack stack;
  stack.api->addDeployment("d1");
  auto a = gaugesFor("dep-a", zc::DeploymentStatus::kRunning);
  stack.api->setDeploymentGauges({a, gaugesFor("dep_b-2", zc::DeploymentStatus::kStopped)});
  ASSERT_EQ(httpRequest(stack.port(), "GET", "/metrics").status, 200);
  a.cpuSecondsTotal = 1;  // the CPU counter restarts (a new run): the series is made again
  stack.api->setDeploymentGauges({a, gaugesFor("dep_b-2", zc::DeploymentStatus::kStopped)});
  zc::testing::SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  // Every kind of series present: HTTP counters and histograms by route (matched, unmatched,
  // another method), deployment info, process and build info.
  ASSERT_EQ(httpRequest(stack.port(), "GET", "/api/deployments/d1").status, 200);
  ASSERT_EQ(httpRequest(stack.port(), "GET", "/nowhere").status, 404);
  ASSERT_EQ(httpRequest(stack.port(), "DELETE", "/api/ports").status, 405);
  auto r = httpRequest(stack.port(), "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  for (const char* family : {"zynd_collector_http_requests_total{",
                             "zynd_collector_http_request_duration_seconds_bucket{",
                             "zynd_deployment_info{", "zynd_collector_build_info{",
                             "process_resident_memory_bytes ", "process_start_time_seconds "}) {
    EXPECT_TRUE(contains(r.body, family)) << family;
  }
  zc::testing::TempDir dir;
  std::string file = dir.path() + "/metrics.txt";
  std::ofstream(file) << r.body;
  std::string out;
  int rc = zc::testing::runCommand("promtool check metrics < " + file + " 2>&1", &out);
  EXPECT_EQ(rc, 0) << out << "\n" << r.body;
  EXPECT_EQ(out, "") << r.body;
}

// A child process started and stopped by pid.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv, const std::string& logFile) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(RealPrometheusTest, ScrapesTheCollectorAndAnswersADeploymentQuery) {
  ZC_REQUIRE_TOOL_OR_SKIP("prometheus");
  ExporterStack stack;
  stack.api->setDeploymentGauges({gaugesFor("dep-a", zc::DeploymentStatus::kRunning)});
  zc::testing::TempDir dir;
  std::string config = dir.path() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: zynd\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << stack.port() << "']\n";
  uint16_t promPort = zc::testing::freeLoopbackPort();
  std::string log = dir.path() + "/prometheus.log";
  Child prom({"prometheus", "--config.file=" + config,
              "--web.listen-address=127.0.0.1:" + std::to_string(promPort),
              "--storage.tsdb.path=" + dir.path() + "/tsdb"},
             log);
  ASSERT_GT(prom.pid(), 0);
  std::string query =
      "/api/v1/query?query=zynd_deployment_memory_used_bytes%7Bdeployment%3D%22dep-a%22%7D";
  std::string body;
  bool found = zc::testing::waitFor(
      [&] {
        auto r = httpRequest(promPort, "GET", query);
        body = r.body;
        return r.status == 200 && contains(body, "\"deployment\":\"dep-a\"");
      },
      40s, 250ms);
  std::string out;
  zc::testing::runCommand("tail -n 20 " + log, &out);
  ASSERT_TRUE(found) << body << "\n" << out;
  Poco::JSON::Parser p;
  auto o = p.parse(body).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(o->getValue<std::string>("status"), "success");
  auto result = o->getObject("data")->getArray("result");
  ASSERT_EQ(result->size(), 1u);
  auto value = result->getObject(0)->getArray("value");
  EXPECT_EQ(value->getElement<std::string>(1), "123456789");
  EXPECT_EQ(result->getObject(0)->getObject("metric")->getValue<std::string>("job"), "zynd");
  // The scrape was healthy.
  auto up = httpRequest(promPort, "GET", "/api/v1/query?query=up%7Bjob%3D%22zynd%22%7D");
  EXPECT_TRUE(contains(up.body, "\"1\"")) << up.body;
}

TEST(RealPrometheusTest, ScrapesOverTlsWithABearerToken) {
  ZC_REQUIRE_TOOL_OR_SKIP("prometheus");
  zc::testing::TempDir dir;
  zc::testing::TestPki pki;
  std::string error;
  ASSERT_TRUE(zc::testing::makeTestPki(dir.path() + "", pki, &error)) << error;
  const std::string token = "prometheus-test-token-0123456789abcdef";
  zc::exporters::AccessOptions ao;
  ao.tokensFile = dir.path() + "/tokens";
  ASSERT_TRUE(zc::exporters::writeTokensFile(
                  ao.tokensFile, {{"prometheus", zc::exporters::TokenScope::kRead,
                                   zc::exporters::sha256Hex(token)}})
                  .isOk());
  // The Host checks need the port before the server binds: pick a free one.
  const uint16_t port = zc::testing::freeLoopbackPort();
  ao.allowedHosts = {"127.0.0.1:" + std::to_string(port)};
  auto access = zc::exporters::AccessControl::create(ao);
  ASSERT_TRUE(access.isOk()) << access.status().toString();
  zc::testing::FakeCollectorApi api;
  api.setDeploymentGauges({gaugesFor("dep-tls", zc::DeploymentStatus::kRunning)});
  zc::exporters::HttpServerOptions ho;
  ho.host = "127.0.0.1";
  ho.port = port;
  ho.tls = {pki.serverCert, pki.serverKey, ""};
  std::unique_ptr<zc::exporters::Exporters> exp;  // destroyed after the server stopped
  zc::exporters::HttpServer server(ho);
  zc::exporters::ExporterOptions eo;
  eo.access = access->get();
  auto ex = zc::exporters::registerExporters(server, api, eo);
  ASSERT_TRUE(ex.isOk()) << ex.status().toString();
  exp = std::move(ex).value();
  ASSERT_TRUE(server.start().isOk());
  // Without the token the scrape is refused: the token is what makes `up` 1.
  zc::testing::TlsClientOptions co;
  co.caFile = pki.caCert;
  EXPECT_EQ(zc::testing::tlsGet(port, "/metrics", co).reply.status, 401);

  std::ofstream(dir.path() + "/token") << token << "\n";
  std::string config = dir.path() + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        << "scrape_configs:\n  - job_name: zynd-tls\n    scheme: https\n"
                        << "    authorization:\n      credentials_file: " << dir.path()
                        << "/token\n    tls_config:\n      ca_file: " << pki.caCert << "\n"
                        << "    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << port << "']\n";
  uint16_t promPort = zc::testing::freeLoopbackPort();
  std::string log = dir.path() + "/prometheus.log";
  Child prom({"prometheus", "--config.file=" + config,
              "--web.listen-address=127.0.0.1:" + std::to_string(promPort),
              "--storage.tsdb.path=" + dir.path() + "/tsdb"},
             log);
  ASSERT_GT(prom.pid(), 0);
  std::string body;
  bool up = zc::testing::waitFor(
      [&] {
        auto r = httpRequest(promPort, "GET", "/api/v1/query?query=up%7Bjob%3D%22zynd-tls%22%7D");
        body = r.body;
        return r.status == 200 && contains(body, "\"1\"]");
      },
      40s, 250ms);
  std::string out;
  zc::testing::runCommand("tail -n 20 " + log, &out);
  ASSERT_TRUE(up) << body << "\n" << out;
  auto series = httpRequest(
      promPort, "GET",
      "/api/v1/query?query=zynd_deployment_memory_used_bytes%7Bdeployment%3D%22dep-tls%22%7D");
  EXPECT_TRUE(contains(series.body, "123456789")) << series.body;
  server.stop();
}

}  // namespace
