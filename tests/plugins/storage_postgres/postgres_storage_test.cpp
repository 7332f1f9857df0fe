// storage_postgres beyond the storage contract: retention in bounded batches, a stop recorded
// for the owning host, the change feed (LISTEN/NOTIFY) and the hosts, against a real
// PostgreSQL 15 (one server for the suite, a fresh database per test).
#include <gtest/gtest.h>

#include <algorithm>

#include "postgres_server.h"
#include "storage_test_util.h"
#include "test_support.h"

namespace zc::testing {
namespace {

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;

PostgresServer& postgres() {
  static PostgresServer server;  // stopped by pid at exit
  return server;
}

const host::PluginRegistry& registry() {
  static const host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry();
    (void)reg->scanDirectory(ZC_PLUGIN_DIR);
    (void)reg->openAll();
    reg->freeze();
    return reg;
  }();
  return *r;
}

class PostgresStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_POSTGRES_OR_SKIP();
    if (!postgres().running()) ASSERT_TRUE(postgres().start().isOk());
    auto db = postgres().createDatabase();
    ASSERT_TRUE(db.isOk()) << db.status().toString();
    db_ = *db;
    auto created = createStorage(
        registry(), "postgres",
        {{"url", postgres().urlWithPassword(PostgresServer::kPassword, db_)},
         {"retention_batch", "100"}},
        &logger_, &clock_);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    store_ = std::move(created).value();
    ASSERT_TRUE(store_->open().isOk());
  }
  void TearDown() override {
    if (store_) EXPECT_TRUE(store_->close().isOk());
  }
  std::string scalar(const std::string& sql) { return postgres().scalar(sql, db_).valueOr("?"); }

  std::string db_;
  ManualClock clock_{kStart};
  RecordingLogger logger_;
  host::PluginPtr<plugin::Storage> store_;
};

TEST_F(PostgresStorageTest, RetentionDeletesInBoundedBatchesUntilNothingExpiredIsLeft) {
  plugin::RetentionPolicy p;
  p.logsTtl = 3600 * kNanosPerSecond;
  store_->setRetentionPolicy(p);
  ASSERT_TRUE(store_->appendLogs(makeBatch("d", 1, 350, kStart)).isOk());
  ASSERT_TRUE(store_->appendLogs(makeBatch("d", 351, 10, kStart + 7200 * kNanosPerSecond)).isOk());
  clock_.set(kStart + 7300 * kNanosPerSecond);
  auto report = store_->applyRetention();
  ASSERT_TRUE(report.isOk()) << report.status().toString();
  EXPECT_EQ(report->logLinesDeleted, 350u);  // four DELETEs of at most 100 rows
  EXPECT_EQ(scalar("SELECT count(*) FROM deployment_logs"), "10");
  auto page = store_->readLogs("d", 0, 1000);
  ASSERT_TRUE(page.isOk());
  EXPECT_EQ(page->oldestLineNo, 351u);
  EXPECT_EQ(page->nextLineNo, 361u);
}

TEST_F(PostgresStorageTest, ALiveRowPutAsStoppedIsAStopRequestForItsHost) {
  Deployment d;
  d.id = "dep";
  d.host = "h1";
  d.status = DeploymentStatus::kRunning;
  d.containerId = "c0ffee";
  d.createdAt = kStart;
  ASSERT_TRUE(store_->putDeployment(d).isOk());
  EXPECT_EQ(scalar("SELECT stop_requested_at IS NULL FROM deployments"), "t");
  d.status = DeploymentStatus::kStopped;
  ASSERT_TRUE(store_->putDeployment(d).isOk());
  EXPECT_EQ(scalar("SELECT stop_requested_at IS NOT NULL FROM deployments"), "t");
  auto row = store_->getDeployment("dep");
  ASSERT_TRUE(row.isOk());
  EXPECT_EQ(row->host, "h1");
  EXPECT_EQ(row->status, DeploymentStatus::kStopped);
  EXPECT_EQ(row->containerId, "c0ffee");  // the host clears it once torn down
  // Putting it stopped again is no new request.
  std::string at = scalar("SELECT stop_requested_at FROM deployments");
  ASSERT_TRUE(store_->putDeployment(d).isOk());
  EXPECT_EQ(scalar("SELECT stop_requested_at FROM deployments"), at);
}

TEST_F(PostgresStorageTest, TheChangeFeedNamesTheDeploymentsWhoseLinesWereStored) {
  auto none = store_->waitForChanges(0);
  ASSERT_TRUE(none.isOk()) << none.status().toString();  // LISTENs from here on
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(store_->appendLogs(makeBatch("a", 1, 3, kStart)).isOk());
  ASSERT_TRUE(postgres().query("SELECT pg_notify('zc_changes', 'b')", db_).isOk());  // as a sink
  ASSERT_TRUE(postgres().query("SELECT pg_notify('zc_changes', 'not/valid')", db_).isOk());
  std::vector<std::string> seen;
  for (int i = 0; i < 20 && seen.size() < 2; ++i) {
    auto got = store_->waitForChanges(200);
    ASSERT_TRUE(got.isOk()) << got.status().toString();
    seen.insert(seen.end(), got->begin(), got->end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_F(PostgresStorageTest, HostsAreListedWithTheirAdvertiseUrl) {
  ASSERT_TRUE(postgres()
                  .query("INSERT INTO hosts (host_id, advertise_url, version) VALUES "
                         "('h1', 'http://10.0.0.1:7070', 'v'), ('h2', NULL, 'v')",
                         db_)
                  .isOk());
  auto hosts = store_->listHosts();
  ASSERT_TRUE(hosts.isOk()) << hosts.status().toString();
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].hostId, "h1");
  EXPECT_EQ((*hosts)[0].advertiseUrl, "http://10.0.0.1:7070");
  EXPECT_GT((*hosts)[0].lastSeenAt, 0);
  EXPECT_EQ((*hosts)[1].advertiseUrl, "");
}

}  // namespace
}  // namespace zc::testing
