// The postgres sink beyond the conformance suite: its pure helpers, its options, and what only a
// real server shows (concurrent migration, a newer schema, wrong credentials, a server that goes
// away and comes back).
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "pg_copy.h"
#include "pg_schema.h"
#include "pg_text.h"
#include "postgres_server.h"
#include "postgres_sink.h"
#include "test_support.h"

namespace zc::pgsink {
using namespace ::zc::pg;
namespace {

using testing::PostgresServer;

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;

TEST(PgTextTest, ValidUtf8IsUnchangedAndEverythingElseBecomesReplacement) {
  EXPECT_EQ(toPgText("plain caf\xC3\xA9 \xF0\x9F\x9A\x80"), "plain caf\xC3\xA9 \xF0\x9F\x9A\x80");
  EXPECT_EQ(toPgText(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(toPgText("\xFF"), "\xEF\xBF\xBD");
  EXPECT_EQ(toPgText("\xC3"), "\xEF\xBF\xBD");                            // cut short
  EXPECT_EQ(toPgText("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");            // overlong
  EXPECT_EQ(toPgText("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(toPgText("\xF4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");  // past U+10FFFF
}

TEST(PgTextTest, RedactedConninfoNeverShowsThePassword) {
  EXPECT_EQ(redactConninfo("postgresql://zc:s3cret@db.local:5433/fleet?sslmode=require"),
            "host=db.local port=5433 dbname=fleet user=zc sslmode=require");
  EXPECT_EQ(redactConninfo("host=db port=5432 password=s3cret user=zc"),
            "host=db port=5432 user=zc");
  EXPECT_EQ(redactConninfo("host='unterminated password=s3cret"), "(unparsable connection string)");
  EXPECT_EQ(redactConninfo(""), "(libpq defaults)");
}

TEST(PgTextTest, MicrosecondsRoundTowardMinusInfinity) {
  EXPECT_EQ(toMicros(1'999), 1);
  EXPECT_EQ(toMicros(-1), -1);
  EXPECT_EQ(toMicros(kStart), kStart / 1000);
}

Status configureWith(PostgresSink& sink, std::map<std::string, std::string> options) {
  static testing::NullLogger logger;  // the plugin keeps the pointer
  plugin::PluginContext ctx;
  ctx.options = std::move(options);
  ctx.logger = &logger;
  ctx.clock = &systemClock();
  return sink.configure(ctx);
}

TEST(PgCopyWriterTest, RowsAreInPostgresBinaryCopyFormat) {
  PgCopyWriter w;
  w.row(4);
  w.text("ab");
  w.int8(258);
  w.boolean(true);
  w.timestamptz(946'684'800 * kNanosPerSecond + 1'999);  // 2000-01-01 + 1.999 us: 1 us
  const std::string out = w.finish();
  const std::string want = std::string("PGCOPY\n\377\r\n\0", 11) + std::string(8, '\0') +  // header
                           std::string("\0\4", 2) +                                           // 4 fields
                           std::string("\0\0\0\2ab", 6) +                                    // text
                           std::string("\0\0\0\10\0\0\0\0\0\0\1\2", 12) +                // int8
                           std::string("\0\0\0\1\1", 5) +                                   // bool
                           std::string("\0\0\0\10\0\0\0\0\0\0\0\1", 12) +                // ts
                           std::string("\377\377", 2);                                      // trailer
  EXPECT_EQ(out, want);
}

TEST(PostgresSinkOptionsTest, BadOptionsAreRefusedWithoutEchoingTheUrl) {
  PostgresSink sink;
  Status st = configureWith(sink, {{"url", "host='x password=s3cret"}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message().rfind("url:", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find("s3cret"), std::string::npos) << st.message();
  st = configureWith(sink, {{"password_file", "relative/file"}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  st = configureWith(sink, {{"rows_per_statement", "0"}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  st = configureWith(sink, {{"colour", "red"}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
}

// One server for the suite (initdb is the slow part), one fresh database per test.
class PostgresSinkServerTest : public ::testing::Test {
 protected:
  static std::unique_ptr<PostgresServer>& shared() {
    static std::unique_ptr<PostgresServer> s;
    return s;
  }
  static void TearDownTestSuite() { shared().reset(); }  // stops it by pid, removes its folder
  static PostgresServer& server() {
    if (!shared()) shared() = std::make_unique<PostgresServer>();
    return *shared();
  }
  void SetUp() override {
    ZC_REQUIRE_POSTGRES_OR_SKIP();
    Status st = server().start();
    ASSERT_TRUE(st.isOk()) << st.toString();
    auto db = server().createDatabase();
    ASSERT_TRUE(db.isOk()) << db.status().toString();
    db_ = *db;
  }
  std::string url(const std::string& password = PostgresServer::kPassword) const {
    return server().urlWithPassword(password, db_);
  }
  Result<std::string> scalar(const std::string& sql) const { return server().scalar(sql, db_); }
  std::unique_ptr<PostgresSink> sink(std::map<std::string, std::string> options) {
    auto s = std::make_unique<PostgresSink>();
    Status st = configureWith(*s, std::move(options));
    EXPECT_TRUE(st.isOk()) << st.toString();
    return s;
  }
  plugin::SinkHostInfo host_{"host-a", "", "test"};
  std::string db_;
};

TEST_F(PostgresSinkServerTest, CollectorsStartingAtOnceMigrateTheSchemaOnce) {
  constexpr int kCollectors = 6;
  std::vector<std::unique_ptr<PostgresSink>> sinks;
  for (int i = 0; i < kCollectors; ++i) sinks.push_back(sink({{"url", url()}}));
  std::vector<Status> results(kCollectors);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCollectors; ++i) {
    threads.emplace_back([&, i] {
      results[i] = sinks[i]->open({"host-" + std::to_string(i), "", "test"});
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.isOk()) << st.toString();
  // One row per migration, each applied once.
  EXPECT_EQ(scalar("SELECT count(*) FROM schema_migrations").value(),
            std::to_string(latestSchemaVersion()));
  EXPECT_EQ(scalar("SELECT count(*) FROM hosts").value(), std::to_string(kCollectors));
  for (auto& s : sinks) EXPECT_TRUE(s->close().isOk());
}

TEST_F(PostgresSinkServerTest, ASchemaFromANewerVersionIsRefusedAndLeftAlone) {
  auto s = sink({{"url", url()}});
  ASSERT_TRUE(s->open(host_).isOk());
  ASSERT_TRUE(server().query("INSERT INTO schema_migrations VALUES (99, 'from the future')", db_).isOk());
  Status st = s->open(host_);
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition) << st.toString();
  EXPECT_NE(st.message().find("newer"), std::string::npos) << st.message();
  EXPECT_EQ(scalar("SELECT max(version) FROM schema_migrations").value(), "99");
  EXPECT_FALSE(s->stats().connected);
}

TEST_F(PostgresSinkServerTest, AWrongPasswordIsUnavailableAndNeverShown) {
  auto s = sink({{"url", url("not-the-password")}});
  Status st = s->open(host_);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_NE(st.message().find("password authentication failed"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("not-the-password"), std::string::npos) << st.message();
  EXPECT_EQ(s->stats().detail.find("not-the-password"), std::string::npos);
}

TEST_F(PostgresSinkServerTest, ThePasswordFileIsUsed) {
  testing::TempDir dir;
  const std::string file = dir.path() + "/pw";
  std::ofstream(file) << PostgresServer::kPassword << "\n";
  auto s = sink({{"url", server().url(db_)}, {"password_file", file}});
  Status st = s->open(host_);
  EXPECT_TRUE(st.isOk()) << st.toString();
  auto missing = sink({{"url", server().url(db_)}, {"password_file", dir.path() + "/none"}});
  EXPECT_EQ(missing->open(host_).code(), Status::Code::kFailedPrecondition);
}

TEST_F(PostgresSinkServerTest, AServerThatGoesAwayIsUnavailableAndTheResendIsExactlyOnce) {
  auto s = sink({{"url", url()}, {"connect_timeout", "2s"}});
  ASSERT_TRUE(s->open(host_).isOk());
  auto batch = [](uint64_t from, uint64_t to) {
    plugin::SinkBatch b{"dep-away", std::nullopt, {}, {}};
    for (uint64_t n = from; n <= to; ++n) {
      b.lines.push_back(LogLine{"dep-away", n, LogStream::kStdout, kStart, "l" + std::to_string(n), false});
    }
    return b;
  };
  ASSERT_TRUE(s->write(batch(1, 100)).isOk());
  server().stop();
  Status st = s->write(batch(101, 200));
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.toString();
  EXPECT_FALSE(s->stats().connected);
  EXPECT_EQ(s->open(host_).code(), Status::Code::kUnavailable);
  ASSERT_TRUE(server().start().isOk());
  ASSERT_TRUE(s->open(host_).isOk());
  auto p = s->position("dep-away");
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->lastLineNo, 100u);
  ASSERT_TRUE(s->write(batch(p->lastLineNo + 1, 200)).isOk());
  EXPECT_EQ(scalar("SELECT count(*) || ' ' || count(DISTINCT line_no) || ' ' || max(line_no) "
                           "FROM deployment_logs WHERE deployment_id = 'dep-away'").value(),
            "200 200 200");
}

TEST_F(PostgresSinkServerTest, LinesAlreadyTherePastTheCursorAreKeptAndTheRestStoredOnce) {
  // The lines go by COPY, which cannot skip a duplicate: a batch that meets rows the cursor does
  // not cover (another host forwarded the same deployment id) is written again with INSERT ...
  // ON CONFLICT DO NOTHING, in one transaction, cursor included.
  auto s = sink({{"url", url()}});
  ASSERT_TRUE(s->open(host_).isOk());
  plugin::SinkBatch first{"dep-dup", std::nullopt, {}, {}};
  for (uint64_t n = 1; n <= 10; ++n) {
    first.lines.push_back(LogLine{"dep-dup", n, LogStream::kStdout, kStart + static_cast<TimeNs>(n),
                                  "a" + std::to_string(n), false});
  }
  ASSERT_TRUE(s->write(first).isOk());
  // Lines 11..20 written by someone else (host-b's cursor, not host-a's).
  ASSERT_TRUE(server()
                  .query("INSERT INTO deployment_logs (deployment_id, line_no, stream, ts, text) "
                         "SELECT 'dep-dup', g, 'stdout', now(), 'b' || g "
                         "FROM generate_series(11, 20) g",
                         db_)
                  .isOk());
  EXPECT_EQ(scalar("SELECT count(*) FROM deployment_logs WHERE deployment_id = 'dep-dup'").value(),
            "20");
  plugin::SinkBatch second{"dep-dup", std::nullopt, {}, {}};
  for (uint64_t n = 11; n <= 30; ++n) {
    second.lines.push_back(LogLine{"dep-dup", n, LogStream::kStderr, kStart + static_cast<TimeNs>(n),
                                   "a" + std::to_string(n), false});
  }
  Status st = s->write(second);
  ASSERT_TRUE(st.isOk()) << st.toString();
  EXPECT_EQ(scalar("SELECT count(*) || ' ' || count(DISTINCT line_no) || ' ' || max(line_no) "
                   "FROM deployment_logs WHERE deployment_id = 'dep-dup'").value(),
            "30 30 30");
  // What was there stays; the rest is the batch's; the cursor moved past both.
  EXPECT_EQ(scalar("SELECT string_agg(text, ',' ORDER BY line_no) FROM deployment_logs WHERE "
                   "deployment_id = 'dep-dup' AND line_no IN (10, 11, 20, 21, 30)").value(),
            "a10,b11,b20,a21,a30");
  auto p = s->position("dep-dup");
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->lastLineNo, 30u);
  // The connection is still good for the next batch, which goes by COPY again.
  plugin::SinkBatch third{"dep-dup", std::nullopt, {}, {}};
  third.lines.push_back(LogLine{"dep-dup", 31, LogStream::kSystem, kStart + 31, "a31\tx", true});
  ASSERT_TRUE(s->write(third).isOk());
  EXPECT_EQ(scalar("SELECT stream || '|' || text || '|' || truncated || '|' FROM deployment_logs WHERE "
                   "deployment_id = 'dep-dup' AND line_no = 31").value(),
            "system|a31\tx|true|");
}

}  // namespace
}  // namespace zc::pgsink
