// The fleet slice through the whole daemon and the real Docker engine: label selection (two
// collectors sharing one engine), host identity, and the postgres sink against a real
// PostgreSQL 15: what PostgreSQL holds equals what the host stored, every line exactly once,
// whatever is killed or restarted mid-flood.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <thread>

#include "docker_fixture.h"
#include "postgres_server.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

// The lines PostgreSQL holds for `id`, by lineNo (ts in whole microseconds).
std::vector<LogLine> postgresLines(const PostgresServer& pg, const std::string& id) {
  std::vector<LogLine> out;
  auto rows = pg.query("SELECT line_no, stream, text, (extract(epoch FROM ts) * 1000000)::bigint "
                       "FROM deployment_logs WHERE deployment_id = '" + id + "' ORDER BY line_no");
  EXPECT_TRUE(rows.isOk()) << rows.status().toString();
  if (!rows.isOk()) return out;
  for (const auto& r : *rows) {
    LogLine l;
    l.deploymentId = id;
    l.lineNo = std::stoull(r[0]);
    l.stream = parseLogStream(r[1]).value_or(LogStream::kStdout);
    l.text = r[2];
    l.ts = std::stoll(r[3]) * 1000;
    out.push_back(std::move(l));
  }
  return out;
}

// PostgreSQL holds exactly the host's lines: same lineNos (each once), streams, texts, times.
void expectSameLines(const std::vector<LogLine>& local, const std::vector<LogLine>& central) {
  ASSERT_EQ(central.size(), local.size());
  for (size_t i = 0; i < local.size(); ++i) {
    ASSERT_EQ(central[i].lineNo, local[i].lineNo) << i;
    ASSERT_EQ(central[i].stream, local[i].stream) << "lineNo " << local[i].lineNo;
    ASSERT_EQ(central[i].text, local[i].text) << "lineNo " << local[i].lineNo;
    ASSERT_EQ(central[i].ts / 1000, local[i].ts / 1000) << "lineNo " << local[i].lineNo;
  }
}

// The forwarder has caught up: the sink reachable and no lag over several of its passes.
bool waitForwarded(Collector& c, std::chrono::milliseconds timeout) {
  int steady = 0;
  return waitFor(
      [&] {
        std::string body;
        bool caughtUp = httpGet(c.port(), "/healthz", &body) == 200 &&
                        body.find("\"lagLines\":0,") != std::string::npos &&
                        body.find("\"reachable\":true") != std::string::npos;
        steady = caughtUp ? steady + 1 : 0;
        return steady >= 4;  // 4 polls 300 ms apart: several forwarder passes
      },
      timeout, 300ms);
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  TempDir dir_;
};

TEST_F(FleetTest, TwoCollectorsWithDifferentSelectionsEachSeeOnlyTheirContainers) {
  const std::string shard = uniqueId("shard");
  std::string idA = uniqueId("sel-a"), idB = uniqueId("sel-b");
  TestContainer a(idA, "echo from a; sleep 30", "--label fleet.shard=" + shard + "-a");
  TestContainer b(idB, "echo from b; sleep 30", "--label fleet.shard=" + shard + "-b");
  ASSERT_TRUE(a.ok() && b.ok());
  Collector ca(dir_.path() + "/a", {"--select-label", "fleet.shard=" + shard + "-a", "--host-id",
                                    "host-a", "--advertise-url", "http://127.0.0.1:1/"});
  Collector cb(dir_.path() + "/b", {"--select-label", "fleet.shard=" + shard + "-b",
                                    "--select-label", "zynd.kind=agent", "--host-id", "host-b"});
  ASSERT_TRUE(ca.waitConnected(20s)) << ca.process().err();
  ASSERT_TRUE(cb.waitConnected(20s)) << cb.process().err();
  std::string listA, listB;
  ASSERT_TRUE(waitFor(
      [&] {
        return httpGet(ca.port(), "/api/deployments", &listA) == 200 &&
               listA.find(idA) != std::string::npos &&
               httpGet(cb.port(), "/api/deployments", &listB) == 200 &&
               listB.find(idB) != std::string::npos;
      },
      20s, 100ms));
  EXPECT_EQ(listA.find(idB), std::string::npos) << listA;
  EXPECT_EQ(listB.find(idA), std::string::npos) << listB;
  EXPECT_NE(listA.find("\"host\":\"host-a\""), std::string::npos) << listA;
  EXPECT_NE(listB.find("\"host\":\"host-b\""), std::string::npos) << listB;
  // A container started later, through the event stream: still only its own collector.
  std::string idC = uniqueId("sel-c");
  TestContainer c(idC, "echo from c; sleep 30", "--label fleet.shard=" + shard + "-a");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return httpGet(ca.port(), "/api/deployments", &listA) == 200 &&
                                   listA.find(idC) != std::string::npos; },
                      20s, 100ms));
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(httpGet(cb.port(), "/api/deployments", &listB), 200);
  EXPECT_EQ(listB.find(idC), std::string::npos) << listB;
  std::string health, metrics;
  ASSERT_EQ(httpGet(ca.port(), "/healthz", &health), 200);
  EXPECT_NE(health.find("\"host\":{\"advertiseUrl\":\"http://127.0.0.1:1/\",\"id\":\"host-a\"}"),
            std::string::npos) << health;
  ASSERT_EQ(httpGet(ca.port(), "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("zynd_collector_info{host=\"host-a\""), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("zynd_collector_forward_lag_lines"), std::string::npos);  // no sink
}

class FleetPostgresTest : public FleetTest {
 protected:
  void SetUp() override {
    FleetTest::SetUp();
    if (IsSkipped()) return;
    ZC_REQUIRE_POSTGRES_OR_SKIP();
    Status st = pg_.start();
    ASSERT_TRUE(st.isOk()) << st.toString();
  }
  std::vector<std::string> sinkArgs(const std::string& password = PostgresServer::kPassword) {
    return {"--sink", "postgres", "--postgres-url", pg_.urlWithPassword(password), "--host-id",
            "fleet-host"};
  }
  PostgresServer pg_;
};

TEST_F(FleetPostgresTest, LinesInPostgresEqualTheHostsLines) {
  Collector collector(dataDir(), sinkArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("pg-eq");
  TestContainer c(id, "i=0; while [ $i -lt 5000 ]; do echo \"out $i\"; echo \"err $i\" >&2; "
                      "i=$((i+1)); done; printf 'caf\\303\\251\\n'");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();
  ASSERT_TRUE(waitForwarded(collector, 60s)) << collector.process().err();
  std::string metrics;
  ASSERT_EQ(httpGet(collector.port(), "/metrics", &metrics), 200);
  EXPECT_NE(metrics.find("zynd_collector_forward_lag_lines 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("zynd_collector_forward_lag_seconds 0"), std::string::npos) << metrics;
  ASSERT_EQ(collector.stop(), 0);
  auto local = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(local), "");
  EXPECT_EQ(containerLines(local).size(), 10001u);
  expectSameLines(local, postgresLines(pg_, id));
  EXPECT_EQ(pg_.scalar("SELECT host FROM deployments WHERE id = '" + id + "'").value(), "fleet-host");
  EXPECT_EQ(pg_.scalar("SELECT version FROM hosts WHERE host_id = 'fleet-host'").isOk(), true);
  EXPECT_EQ(pg_.scalar("SELECT last_line_no FROM forward_cursors WHERE deployment_id = '" + id + "'")
                .value(),
            std::to_string(local.size()));
  // The URL's password never reaches the log.
  EXPECT_EQ(collector.process().err().find(PostgresServer::kPassword), std::string::npos);
}

// A flood with pauses, so that kills and restarts land while lines are still being written.
std::string flood(int lines) {
  return "i=0; while [ $i -lt " + std::to_string(lines) +
         " ]; do echo \"line $i\"; i=$((i+1)); if [ $((i % 20000)) -eq 0 ]; then sleep 1; fi; "
         "done";
}

TEST_F(FleetPostgresTest, KillNineOfTheHostCollectorMidFloodForwardsEveryLineOnce) {
  constexpr int kLines = 80000;
  std::string id = uniqueId("pg-kill");
  TestContainer c(id, flood(kLines));
  ASSERT_TRUE(c.ok());
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 4; ++round) {
    Collector collector(dataDir(), sinkArgs());
    ASSERT_TRUE(collector.waitConnected(20s)) << "round " << round << ": " << collector.process().err();
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    collector.process().signal(SIGKILL);
    collector.process().wait(5s);
  }
  ASSERT_TRUE(c.waitExited(120s));
  Collector last(dataDir(), sinkArgs());
  ASSERT_TRUE(last.waitDrained(120s)) << last.process().err();
  ASSERT_TRUE(waitForwarded(last, 120s)) << last.process().err();
  ASSERT_EQ(last.stop(), 0);
  auto local = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(local), "");
  ASSERT_EQ(containerLines(local).size(), static_cast<size_t>(kLines));
  expectSameLines(local, postgresLines(pg_, id));
}

TEST_F(FleetPostgresTest, PostgresRestartedMidFloodOrAwayForAWhileLosesAndRepeatsNothing) {
  constexpr int kLines = 80000;
  Collector collector(dataDir(), sinkArgs());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("pg-away");
  TestContainer c(id, flood(kLines));
  ASSERT_TRUE(c.ok());
  for (int round = 0; round < 2; ++round) {  // restarts while lines flow
    std::this_thread::sleep_for(700ms);
    pg_.stop();
    ASSERT_TRUE(pg_.start().isOk());
  }
  pg_.stop();  // away for a while: lines keep landing locally
  std::string health;
  ASSERT_TRUE(waitFor([&] { return httpGet(collector.port(), "/healthz", &health) == 200 &&
                                   health.find("\"reachable\":false") != std::string::npos; },
                      10s, 100ms)) << health;
  std::this_thread::sleep_for(3s);
  EXPECT_NE(health.find("\"status\":\"ok\""), std::string::npos) << health;  // still collecting
  ASSERT_TRUE(pg_.start().isOk());
  ASSERT_TRUE(c.waitExited(120s));
  ASSERT_TRUE(collector.waitDrained(120s)) << collector.process().err();
  ASSERT_TRUE(waitForwarded(collector, 120s)) << collector.process().err();
  ASSERT_EQ(collector.stop(), 0);
  auto local = readStoredLines(dataDir(), id);
  EXPECT_EQ(checkContiguous(local), "");
  ASSERT_EQ(containerLines(local).size(), static_cast<size_t>(kLines));
  expectSameLines(local, postgresLines(pg_, id));
}

TEST_F(FleetPostgresTest, AWrongPasswordAtStartIsOneClearLineAndCollectingGoesOn) {
  Collector collector(dataDir(), sinkArgs("wrong-password"));
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("pg-pw");
  TestContainer c(id, "i=0; while [ $i -lt 100 ]; do echo \"line $i\"; i=$((i+1)); done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(30s));
  ASSERT_TRUE(collector.waitDrained(30s)) << collector.process().err();
  std::string logs;
  ASSERT_EQ(httpGet(collector.port(), "/api/deployments/" + id + "/logs?limit=500", &logs), 200);
  EXPECT_NE(logs.find("line 99"), std::string::npos);
  std::string health;
  ASSERT_EQ(httpGet(collector.port(), "/healthz", &health), 200);
  EXPECT_NE(health.find("\"reachable\":false"), std::string::npos) << health;
  EXPECT_NE(health.find("password authentication failed"), std::string::npos) << health;
  EXPECT_EQ(health.find("wrong-password"), std::string::npos) << health;
  ASSERT_EQ(collector.stop(), 0);
  const std::string err = collector.process().err();
  size_t lines = 0;
  for (size_t at = err.find("password authentication failed"); at != std::string::npos;
       at = err.find("password authentication failed", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << err;  // retries with backoff, logged once
  EXPECT_EQ(err.find("wrong-password"), std::string::npos) << err;
}

}  // namespace
}  // namespace zc::testing
