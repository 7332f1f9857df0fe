// Central mode through the whole daemon: three host collectors on one engine (each selecting its
// own containers, each forwarding to one PostgreSQL 15) and one central instance
// (`--runtime none --storage postgres`) reading that database. The central list shows every
// deployment with its host, the central lines equal each host's lines, a central DELETE stops
// the container on the right host, SSE from the central instance is live and survives the central
// instance killed -9 (clients resume with Last-Event-ID), and a wrong password stops the central
// start with one line and exit 78.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include "docker_fixture.h"
#include "postgres_server.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

Poco::JSON::Object::Ptr parseObject(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

// Every line of `id` as served by the REST API of the daemon on `port`, paged with nextSince:
// "lineNo|stream|ts to the microsecond|text" each.
std::vector<std::string> servedLines(uint16_t port, const std::string& id) {
  std::vector<std::string> out;
  uint64_t since = 0;
  for (int page = 0; page < 1000; ++page) {
    std::string body;
    if (httpGet(port, "/api/deployments/" + id + "/logs?limit=5000&since=" + std::to_string(since),
                &body) != 200) {
      ADD_FAILURE() << "logs of " << id << " on " << port << ": " << body;
      return out;
    }
    auto obj = parseObject(body);
    auto lines = obj->getArray("lines");
    if (lines->size() == 0) return out;
    for (size_t i = 0; i < lines->size(); ++i) {
      auto l = lines->getObject(static_cast<unsigned>(i));
      // Times to the microsecond: PostgreSQL's timestamptz keeps no more.
      const std::string ts = l->getValue<std::string>("ts").substr(0, 26);
      out.push_back(l->getValue<std::string>("lineNo") + "|" + l->getValue<std::string>("stream") +
                    "|" + ts + "|" + l->getValue<std::string>("text"));
    }
    since = obj->getValue<uint64_t>("nextSince");
  }
  return out;
}

// id -> host of every deployment the daemon on `port` lists (with `query`, e.g. "?host=h1").
std::map<std::string, std::string> listed(uint16_t port, const std::string& query = "") {
  std::map<std::string, std::string> out;
  std::string body;
  if (httpGet(port, "/api/deployments" + query, &body) != 200) return out;
  auto arr = parseObject(body)->getArray("deployments");
  for (size_t i = 0; i < arr->size(); ++i) {
    auto d = arr->getObject(static_cast<unsigned>(i));
    out[d->getValue<std::string>("id")] = d->isNull("host") ? "" : d->getValue<std::string>("host");
  }
  return out;
}

std::string field(uint16_t port, const std::string& id, const std::string& name) {
  std::string body;
  if (httpGet(port, "/api/deployments/" + id, &body) != 200) return "<absent>";
  auto d = parseObject(body);
  return d->isNull(name) ? "<null>" : d->getValue<std::string>(name);
}

class FleetCentralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_DOCKER_OR_SKIP();
    ZC_REQUIRE_POSTGRES_OR_SKIP();
    Status st = pg_.start();
    ASSERT_TRUE(st.isOk()) << st.toString();
  }

  // A host collector `h` following the containers labelled zynd.host=<h> of this test's shard.
  std::unique_ptr<Collector> host(const std::string& h) {
    return std::make_unique<Collector>(
        dir_.path() + "/" + h,
        std::vector<std::string>{"--host-id", h, "--advertise-url", "http://127.0.0.1:1/" + h,
                                 "--select-label", "zynd.host=" + h, "--select-label",
                                 "fleet.shard=" + shard_, "--sink", "postgres", "--postgres-url",
                                 pg_.urlWithPassword(), "--stop-grace", "2s"});
  }

  // The central instance on a free port.
  std::unique_ptr<ChildProcess> central(uint16_t port, const std::string& password =
                                                           PostgresServer::kPassword) {
    return std::make_unique<ChildProcess>(collectorArgv(
        {"--runtime", "none", "--storage", "postgres", "--postgres-url",
         pg_.urlWithPassword(password), "--host-id", "central", "--listen",
         "127.0.0.1:" + std::to_string(port), "--data-dir", dir_.path() + "/central"}));
  }

  std::string labels(const std::string& h) const {
    return "--label zynd.host=" + h + " --label fleet.shard=" + shard_;
  }

  TempDir dir_;
  std::string shard_ = uniqueId("ctr");
  PostgresServer pg_;
};

TEST_F(FleetCentralTest, ThreeHostsOneCentralListEveryDeploymentWithItsHostAndTheSameLines) {
  const std::vector<std::string> hosts = {"h1", "h2", "h3"};
  std::vector<std::unique_ptr<TestContainer>> containers;
  std::map<std::string, std::string> hostOf;  // deployment -> host
  for (const std::string& h : hosts) {
    for (int k = 0; k < 2; ++k) {
      std::string id = uniqueId("ctr-" + h);
      containers.push_back(std::make_unique<TestContainer>(
          id, "i=0; while [ $i -lt 400 ]; do echo \"out " + h + " $i\"; echo \"err $i\" >&2; "
              "i=$((i+1)); done; sleep 60", labels(h)));
      ASSERT_TRUE(containers.back()->ok());
      hostOf[id] = h;
    }
  }
  std::map<std::string, std::unique_ptr<Collector>> collectors;
  for (const std::string& h : hosts) collectors[h] = host(h);
  for (auto& [h, c] : collectors) ASSERT_TRUE(c->waitConnected(30s)) << h << c->process().err();

  const uint16_t port = freePort();
  auto c = central(port);
  ASSERT_TRUE(waitHealthy(port, nullptr, 20s)) << c->err();

  // Every deployment listed with its host, and every line over.
  ASSERT_TRUE(waitFor(
      [&] {
        auto all = listed(port);
        for (const auto& [id, h] : hostOf) {
          if (all[id] != h) return false;
          if (servedLines(port, id).size() < 800) return false;
        }
        return true;
      },
      90s, 500ms))
      << c->err();
  for (const auto& [id, h] : hostOf) {
    auto fromHost = servedLines(collectors[h]->port(), id);
    auto fromCentral = servedLines(port, id);
    ASSERT_GE(fromHost.size(), 800u) << id;
    EXPECT_EQ(fromCentral, fromHost) << id << " of " << h;
  }
  // The host filter.
  auto onlyH2 = listed(port, "?host=h2");
  for (const auto& [id, h] : hostOf) EXPECT_EQ(onlyH2.count(id), h == "h2" ? 1u : 0u) << id;
  for (const auto& [id, h] : onlyH2) EXPECT_EQ(h, "h2") << id;
  std::string body;
  EXPECT_EQ(httpGet(port, "/api/deployments?host=not%20valid", &body), 400) << body;
  EXPECT_NE(body.find("\"error\":\"invalid_parameter\""), std::string::npos) << body;
  // A page is one statement when it has lines; an unknown deployment is still 404, and a page
  // past the last line of a known one is 200 with no lines.
  EXPECT_EQ(httpGet(port, "/api/deployments/no-such-deployment/logs?limit=500", &body), 404) << body;
  EXPECT_EQ(httpGet(port, "/api/deployments/" + hostOf.begin()->first + "/logs?since=100000",
                    &body), 200) << body;
  EXPECT_NE(body.find("\"lines\":[]"), std::string::npos) << body;

  // A central DELETE stops the container on its host, with its last lines captured.
  const std::string victim = std::next(hostOf.begin(), 2)->first;
  const std::string owner = hostOf[victim];
  ASSERT_EQ(httpCall(port, "DELETE", "/api/deployments/" + victim, &body), 202) << body;
  EXPECT_NE(body.find("\"status\":\"stopped\""), std::string::npos) << body;
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitFor([&] { return field(collectors[owner]->port(), victim, "status") == "stopped"; },
                      10s, 50ms));
  const auto pickedUpMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - asked)
                              .count();
  EXPECT_LE(pickedUpMs, 2500) << "the host took the central stop after " << pickedUpMs << " ms";
  std::printf("[ central stop picked up by the host after %lld ms ]\n",
              static_cast<long long>(pickedUpMs));
  ASSERT_TRUE(waitFor([&] { return field(port, victim, "containerId") == "<null>"; }, 60s, 200ms))
      << collectors[owner]->process().err();
  EXPECT_NE(docker("inspect zynd-" + victim), 0);  // the container is gone
  EXPECT_EQ(field(port, victim, "status"), "stopped");
  // Every other deployment still runs.
  for (const auto& [id, h] : hostOf) {
    if (id != victim) {
      EXPECT_EQ(field(port, id, "status"), "running") << id;
    }
  }
  ASSERT_TRUE(waitFor([&] { return servedLines(port, victim) == servedLines(collectors[owner]->port(), victim); },
                      30s, 300ms));
  auto last = servedLines(port, victim);
  bool stopLine = false;
  for (const auto& l : last) stopLine |= l.find("|system|") != std::string::npos &&
                                         l.find("[STOP] stop requested by the central instance") !=
                                             std::string::npos;
  EXPECT_TRUE(stopLine) << "no [STOP] line reached the central instance";

  c->signal(SIGTERM);
  EXPECT_EQ(c->wait(20s), 0);
  for (auto& [h, col] : collectors) EXPECT_EQ(col->stop(), 0) << h;
}

// Reads SSE from the daemon on `port` for `id` until at least `want` log events came or `timeout`
// passed; the ids of the `event: log` events in order.
std::vector<uint64_t> readSseIds(uint16_t port, const std::string& id, size_t want,
                                 std::chrono::milliseconds timeout, const std::string& lastEventId) {
  std::vector<uint64_t> ids;
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", port));
  s.setReceiveTimeout(Poco::Timespan(0, 200'000));
  std::string req = "GET /api/deployments/" + id + "/logs/stream HTTP/1.1\r\nHost: 127.0.0.1:" +
                    std::to_string(port) + "\r\nAccept: text/event-stream\r\n";
  if (!lastEventId.empty()) req += "Last-Event-ID: " + lastEventId + "\r\n";
  req += "\r\n";
  s.sendBytes(req.data(), static_cast<int>(req.size()));
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool isLog = false;
  uint64_t pendingId = 0;
  while (ids.size() < want && std::chrono::steady_clock::now() < deadline) {
    char chunk[4096];
    int n = 0;
    try {
      n = s.receiveBytes(chunk, sizeof chunk);
    } catch (const Poco::TimeoutException&) {
      continue;
    }
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t eol;
    while ((eol = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, eol);
      buf.erase(0, eol + 1);
      if (line == "event: log") isLog = true;
      if (line.rfind("id: ", 0) == 0) pendingId = std::stoull(line.substr(4));
      if (line.empty()) {
        if (isLog) ids.push_back(pendingId);
        isLog = false;
      }
    }
  }
  return ids;
}

TEST_F(FleetCentralTest, SseFromTheCentralInstanceIsLiveAndResumesFromLastEventId) {
  std::string id = uniqueId("ctr-sse");
  TestContainer slow(id, "i=0; while [ $i -lt 600 ]; do echo \"tick $i\"; i=$((i+1)); "
                         "sleep 0.05; done; sleep 60", labels("h1"));
  ASSERT_TRUE(slow.ok());
  auto h1 = host("h1");
  ASSERT_TRUE(h1->waitConnected(30s)) << h1->process().err();
  const uint16_t port = freePort();
  auto c = central(port);
  ASSERT_TRUE(waitHealthy(port, nullptr, 20s)) << c->err();
  ASSERT_TRUE(waitFor([&] { return listed(port).count(id) == 1; }, 30s, 200ms));
  // From the start: the backfill and then live lines, each once and in order.
  auto ids = readSseIds(port, id, 120, 30s, "");
  ASSERT_GE(ids.size(), 120u) << c->err();  // a read may bring a few more
  for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], i + 1) << i;
  // Resuming after the 100th: 101, 102, ... and lines written after the stream opened arrive.
  const size_t storedBefore = servedLines(port, id).size();
  auto resumed = readSseIds(port, id, storedBefore + 20 - 100, 30s, "100");
  ASSERT_GE(resumed.size(), storedBefore + 20 - 100) << c->err();  // past what was stored
  for (size_t i = 0; i < resumed.size(); ++i) ASSERT_EQ(resumed[i], 101 + i) << i;
  c->signal(SIGTERM);
  EXPECT_EQ(c->wait(20s), 0);
  EXPECT_EQ(h1->stop(), 0);
}

// An SSE client that survives the central instance going away: it reads `event: log` ids, and
// whenever the connection fails or closes it reconnects (every 100 ms) with `Last-Event-ID` set
// to the last id it got, until it got id `target` (once that is known) or `deadline` passed.
class ResumingSseReader {
 public:
  ResumingSseReader(uint16_t port, std::string id) : port_(port), id_(std::move(id)) {
    thread_ = std::thread([this] { run(); });
  }
  ~ResumingSseReader() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void finishAt(uint64_t target) { target_ = target; }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  size_t count() const { return count_; }
  int connections() const { return connections_; }
  // Only after join().
  const std::vector<uint64_t>& ids() const { return ids_; }

 private:
  bool done() const {
    if (stop_ || std::chrono::steady_clock::now() > deadline_) return true;
    const uint64_t t = target_;
    return t > 0 && !ids_.empty() && ids_.back() >= t;
  }

  void run() {
    while (!done()) {
      try {
        readOnce();
      } catch (const Poco::Exception&) {
        // Refused while the central instance is down, or reset when it was killed: retry.
      }
      if (!done()) std::this_thread::sleep_for(100ms);
    }
  }

  void readOnce() {
    Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", port_));
    s.setReceiveTimeout(Poco::Timespan(0, 200'000));
    std::string req = "GET /api/deployments/" + id_ + "/logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Accept: text/event-stream\r\n";
    if (!ids_.empty()) req += "Last-Event-ID: " + std::to_string(ids_.back()) + "\r\n";
    req += "\r\n";
    s.sendBytes(req.data(), static_cast<int>(req.size()));
    ++connections_;
    std::string buf;
    bool isLog = false;
    uint64_t pendingId = 0;
    while (!done()) {
      char chunk[4096];
      int n = 0;
      try {
        n = s.receiveBytes(chunk, sizeof chunk);
      } catch (const Poco::TimeoutException&) {
        continue;
      }
      if (n <= 0) return;  // closed: reconnect
      buf.append(chunk, static_cast<size_t>(n));
      size_t eol;
      while ((eol = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, eol);
        buf.erase(0, eol + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "event: log") isLog = true;
        if (line.rfind("id: ", 0) == 0) pendingId = std::stoull(line.substr(4));
        if (line.empty()) {
          // Only whole events count: a half-read event is read again after the reconnect.
          if (isLog) {
            ids_.push_back(pendingId);
            count_ = ids_.size();
          }
          isLog = false;
        }
      }
    }
  }

  const uint16_t port_;
  const std::string id_;
  const std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::now() + 120s;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> target_{0};
  std::atomic<size_t> count_{0};
  std::atomic<int> connections_{0};
  std::vector<uint64_t> ids_;
  std::thread thread_;
};

TEST_F(FleetCentralTest, TheCentralInstanceKilledNineWhileSseClientsReadLosesAndRepeatsNothing) {
  // 2,000 lines in bursts of 10 every 50 ms (about 10 s), so that kills land mid-flood.
  constexpr int kLines = 2000;
  const std::string id = uniqueId("ctr-k9");
  TestContainer flood(id, "i=0; while [ $i -lt " + std::to_string(kLines) + " ]; do "
                          "echo \"tick $i\"; i=$((i+1)); "
                          "if [ $((i % 10)) -eq 0 ]; then sleep 0.05; fi; done; sleep 120",
                      labels("h1"));
  ASSERT_TRUE(flood.ok());
  auto h1 = host("h1");
  ASSERT_TRUE(h1->waitConnected(30s)) << h1->process().err();
  const uint16_t port = freePort();
  auto c = central(port);
  ASSERT_TRUE(waitHealthy(port, nullptr, 20s)) << c->err();
  ASSERT_TRUE(waitFor([&] { return listed(port).count(id) == 1; }, 30s, 100ms)) << c->err();

  std::vector<std::unique_ptr<ResumingSseReader>> readers;
  for (int i = 0; i < 4; ++i) readers.push_back(std::make_unique<ResumingSseReader>(port, id));
  // Two kills -9, each after every reader got more lines, each restart on the same port.
  for (size_t atLeast : {300u, 900u}) {
    ASSERT_TRUE(waitFor(
        [&] {
          for (auto& r : readers) {
            if (r->count() < atLeast) return false;
          }
          return true;
        },
        60s, 20ms))
        << c->err();
    c->signal(SIGKILL);
    EXPECT_EQ(c->wait(10s), -1);  // died by the signal
    std::this_thread::sleep_for(500ms);  // lines go on landing in PostgreSQL meanwhile
    c = central(port);
    ASSERT_TRUE(waitHealthy(port, nullptr, 20s)) << c->err();
  }

  // Once the host has every line, the readers stop at its last lineNo.
  std::vector<std::string> fromHost;
  ASSERT_TRUE(waitFor(
      [&] {
        fromHost = servedLines(h1->port(), id);
        return !fromHost.empty() &&
               fromHost.back().find("tick " + std::to_string(kLines - 1)) != std::string::npos;
      },
      60s, 200ms));
  const uint64_t last = fromHost.size();
  for (auto& r : readers) r->finishAt(last);
  for (auto& r : readers) r->join();
  for (size_t k = 0; k < readers.size(); ++k) {
    const auto& ids = readers[k]->ids();
    EXPECT_GE(readers[k]->connections(), 3) << "reader " << k << " did not reconnect twice";
    ASSERT_EQ(ids.size(), last) << "reader " << k;
    for (size_t i = 0; i < ids.size(); ++i) ASSERT_EQ(ids[i], i + 1) << "reader " << k << " at " << i;
  }
  // PostgreSQL holds each line once, and the restarted central instance serves the host's lines.
  auto counts = pg_.query("SELECT count(*), count(DISTINCT line_no), min(line_no), max(line_no) "
                          "FROM deployment_logs WHERE deployment_id = '" + id + "'");
  ASSERT_TRUE(counts.isOk()) << counts.status().toString();
  const std::string n = std::to_string(last);
  EXPECT_EQ(counts.value().at(0), (std::vector<std::string>{n, n, "1", n}));
  EXPECT_EQ(servedLines(port, id), fromHost);
  c->signal(SIGTERM);
  EXPECT_EQ(c->wait(20s), 0);
  EXPECT_EQ(h1->stop(), 0);
}

TEST_F(FleetCentralTest, ARealPrometheusDiscoversAndScrapesEveryHostThroughTheCentralInstance) {
  if (std::system("command -v prometheus > /dev/null 2>&1") != 0) {
    if (std::getenv("ZC_REQUIRE_PROMETHEUS") != nullptr) FAIL() << "prometheus required";
    GTEST_SKIP() << "prometheus is not installed";
  }
  // Hosts on ports chosen here, so that each advertises its real URL.
  std::vector<std::unique_ptr<ChildProcess>> hosts;
  std::vector<uint16_t> hostPorts;
  for (const std::string h : {"h1", "h2", "h3"}) {
    const uint16_t hp = freePort();
    hostPorts.push_back(hp);
    hosts.push_back(std::make_unique<ChildProcess>(collectorArgv(
        {"--data-dir", dir_.path() + "/" + h, "--listen", "127.0.0.1:" + std::to_string(hp),
         "--docker-socket", dockerSocketPath(), "--host-id", h, "--advertise-url",
         "http://127.0.0.1:" + std::to_string(hp), "--select-label", "fleet.shard=" + shard_,
         "--sink", "postgres", "--postgres-url", pg_.urlWithPassword()})));
  }
  const uint16_t port = freePort();
  auto c = central(port);
  ASSERT_TRUE(waitHealthy(port, nullptr, 20s)) << c->err();
  std::string targets;
  ASSERT_TRUE(waitFor([&] {
    return httpGet(port, "/api/prometheus/targets", &targets) == 200 &&
           targets.find("\"host\":\"h1\"") != std::string::npos &&
           targets.find("\"host\":\"h2\"") != std::string::npos &&
           targets.find("\"host\":\"h3\"") != std::string::npos;
  }, 30s, 200ms)) << targets << c->err();
  EXPECT_NE(targets.find("\"__scheme__\":\"http\""), std::string::npos) << targets;
  // A host collector is not central: its targets route says so.
  std::string body;
  EXPECT_EQ(httpGet(hostPorts[0], "/api/prometheus/targets", &body), 404) << body;
  EXPECT_NE(body.find("\"error\":\"not_central\""), std::string::npos) << body;

  const std::string config = dir_.path() + "/prometheus.yml";
  {
    std::FILE* f = std::fopen(config.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f,
                 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                 "scrape_configs:\n  - job_name: zynd-fleet\n    http_sd_configs:\n"
                 "      - url: http://127.0.0.1:%u/api/prometheus/targets\n"
                 "        refresh_interval: 1s\n",
                 port);
    std::fclose(f);
  }
  const uint16_t promPort = freePort();
  ChildProcess prom({"/usr/bin/prometheus", "--config.file=" + config,
                     "--web.listen-address=127.0.0.1:" + std::to_string(promPort),
                     "--storage.tsdb.path=" + dir_.path() + "/tsdb"});
  ASSERT_TRUE(prom.started());
  std::string up;
  const bool allUp = waitFor(
      [&] {
        if (httpGet(promPort, "/api/v1/query?query=up%7Bjob%3D%22zynd-fleet%22%7D%3D%3D1", &up) !=
            200) {
          return false;
        }
        return up.find("\"host\":\"h1\"") != std::string::npos &&
               up.find("\"host\":\"h2\"") != std::string::npos &&
               up.find("\"host\":\"h3\"") != std::string::npos;
      },
      60s, 500ms);
  EXPECT_TRUE(allUp) << up << "\n" << prom.err();
  // The host collectors' own series came through, labelled with their host.
  std::string info;
  EXPECT_EQ(httpGet(promPort, "/api/v1/query?query=zynd_collector_info%7Bjob%3D%22zynd-fleet%22%7D",
                    &info), 200);
  EXPECT_NE(info.find("\"host\":\"h2\""), std::string::npos) << info;
  prom.signal(SIGTERM);
  prom.wait(20s);
  c->signal(SIGTERM);
  EXPECT_EQ(c->wait(20s), 0);
  for (auto& h : hosts) {
    h->signal(SIGTERM);
    EXPECT_EQ(h->wait(20s), 0);
  }
}

TEST_F(FleetCentralTest, AWrongPasswordStopsTheCentralStartWithOneLineAndExit78) {
  const uint16_t port = freePort();
  auto c = central(port, "wrong-password");
  EXPECT_EQ(c->wait(30s), 78);
  const std::string err = c->err();
  EXPECT_NE(err.find("password authentication failed"), std::string::npos) << err;
  EXPECT_EQ(err.find("wrong-password"), std::string::npos) << err;  // never the password
  size_t lines = 0;
  for (char ch : err) lines += ch == '\n';
  EXPECT_LE(lines, 3u) << err;  // the failure is one line (with at most the start-up banner)
  auto noServer = std::make_unique<ChildProcess>(collectorArgv(
      {"--runtime", "none", "--storage", "postgres", "--postgres-url",
       "postgresql://zc@127.0.0.1:1/postgres", "--listen", "127.0.0.1:" + std::to_string(port),
       "--data-dir", dir_.path() + "/central2"}));
  EXPECT_EQ(noServer->wait(30s), 78);
  EXPECT_NE(noServer->err().find("127.0.0.1"), std::string::npos) << noServer->err();
}

}  // namespace
}  // namespace zc::testing
