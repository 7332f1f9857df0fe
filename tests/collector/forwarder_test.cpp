// The forwarder against a fake sink (fault injection: unreachable, lost connections, a commit
// whose answer is lost) over the real memory storage plugin: what the sink ends up holding is
// every committed line once, in order, whatever fails in between.
#include "forwarder.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "test_support.h"
#include "zc/host/plugin_loader.h"

namespace zc::collector {
namespace {

using plugin::SinkBatch;
using plugin::SinkPosition;

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;

// Holds what it was given, like a real sink: lines and the position move together. Faults are
// scripted: `unreachable` refuses open(); `failWrites` makes the next writes fail before storing;
// `loseAnswers` stores the next writes but answers Unavailable (the commit's answer lost).
class FakeSink final : public plugin::Sink {
 public:
  Status open(const plugin::SinkHostInfo& host) noexcept override {
    std::lock_guard lock(mu_);
    ++opens;
    if (unreachable) return Status::unavailable("fake: unreachable");
    host_ = host.hostId;
    connected_ = true;
    return Status::ok();
  }
  Status close() noexcept override { return Status::ok(); }
  Result<SinkPosition> position(std::string_view id) noexcept override {
    std::lock_guard lock(mu_);
    if (!connected_) return Status::unavailable("fake: not connected");
    return positions[std::string(id)];
  }
  Status write(const SinkBatch& b) noexcept override {
    std::lock_guard lock(mu_);
    if (!connected_) return Status::unavailable("fake: not connected");
    if (failWrites > 0) {
      --failWrites;
      connected_ = false;
      return Status::unavailable("fake: connection lost");
    }
    SinkPosition& p = positions[b.deploymentId];
    for (const LogLine& l : b.lines) {
      if (l.lineNo <= p.lastLineNo) continue;  // the cursor check of the contract
      lines[b.deploymentId].push_back(l);
      p.lastLineNo = l.lineNo;
    }
    for (const MetricSample& s : b.samples) {
      if (s.sampledAt <= p.lastSampledAt) continue;
      samples[b.deploymentId].push_back(s);
      p.lastSampledAt = s.sampledAt;
    }
    if (b.row) rows[b.deploymentId] = *b.row;
    ++writes;
    if (loseAnswers > 0) {
      --loseAnswers;
      connected_ = false;
      return Status::unavailable("fake: answer lost");
    }
    return Status::ok();
  }
  plugin::SinkStats stats() noexcept override { return {connected_, ""}; }
  Result<std::vector<plugin::SinkStopRequest>> pendingStops() noexcept override {
    std::lock_guard lock(mu_);
    if (!connected_) return Status::unavailable("fake: not connected");
    return stops;
  }
  Status stopTaken(const plugin::SinkStopRequest& r) noexcept override {
    std::lock_guard lock(mu_);
    std::erase(stops, r);
    ++stopsTaken;
    return Status::ok();
  }
  std::vector<plugin::SinkStopRequest> stops;
  int stopsTaken = 0;

  std::mutex mu_;
  bool unreachable = false;
  int failWrites = 0;
  int loseAnswers = 0;
  int opens = 0;
  int writes = 0;
  bool connected_ = false;
  std::string host_;
  std::map<std::string, SinkPosition> positions;
  std::map<std::string, std::vector<LogLine>> lines;
  std::map<std::string, std::vector<MetricSample>> samples;
  std::map<std::string, Deployment> rows;
};

class ForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &clock_;
    auto created = registry_.create<plugin::Storage>("memory", ctx);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    storage_ = std::move(created).value();
    ASSERT_TRUE(storage_->open().isOk());
  }
  void TearDown() override {
    if (storage_) {
      EXPECT_TRUE(storage_->close().isOk());
    }
  }

  void addDeployment(const std::string& id) {
    Deployment d;
    d.id = id;
    d.name = id;
    d.createdAt = kStart;
    ASSERT_TRUE(storage_->putDeployment(d).isOk());
  }
  void append(const std::string& id, uint64_t first, size_t count) {
    plugin::LogBatch b;
    b.deploymentId = id;
    for (size_t i = 0; i < count; ++i) {
      b.lines.push_back(LogLine{id, first + i, LogStream::kStdout, kStart + int64_t(first + i),
                                "line " + std::to_string(first + i), false});
    }
    ASSERT_TRUE(storage_->appendLogs(b).isOk());
  }
  ForwarderOptions fast() {
    ForwarderOptions o;
    o.batchLines = 100;
    o.backoffInitial = std::chrono::milliseconds(0);
    o.backoffMax = std::chrono::milliseconds(0);
    return o;
  }
  // Runs `passes` passes, as the forwarder's thread would.
  void runPasses(Forwarder& f, int passes) {
    for (int i = 0; i < passes; ++i) f.runPass();
  }
  static void expectContiguousOnce(const std::vector<LogLine>& lines, uint64_t count) {
    ASSERT_EQ(lines.size(), count);
    for (uint64_t i = 0; i < count; ++i) ASSERT_EQ(lines[i].lineNo, i + 1);
  }

  testing::NullLogger logger_;
  ManualClock clock_{kStart + 10 * kNanosPerSecond};
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  FakeSink sink_;
};

TEST_F(ForwarderTest, EverythingCommittedReachesTheSinkInOrderWithTheHostOnTheRow) {
  addDeployment("a");
  addDeployment("b");
  append("a", 1, 250);
  append("b", 1, 10);
  ASSERT_TRUE(storage_->appendMetrics({MetricSample{"a", kStart, 50, 10, 100}}).isOk());
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, fast());
  f.runPass();
  expectContiguousOnce(sink_.lines["a"], 250);
  expectContiguousOnce(sink_.lines["b"], 10);
  EXPECT_EQ(sink_.samples["a"].size(), 1u);
  EXPECT_EQ(sink_.rows["a"].host, "host-1");
  ForwardStats s = f.stats();
  EXPECT_TRUE(s.connected);
  EXPECT_EQ(s.lagLines, 0u);
  EXPECT_EQ(s.linesForwarded, 260u);
  // Nothing new: no further writes (the row is sent only when it changed).
  int writes = sink_.writes;
  f.runPass();
  EXPECT_EQ(sink_.writes, writes);
}

TEST_F(ForwarderTest, AWakeForwardsNewLinesAtOnceRatherThanAfterTheInterval) {
  addDeployment("a");
  ForwarderOptions o = fast();
  o.interval = std::chrono::seconds(60);
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, o);
  f.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the first pass has run
  append("a", 1, 10);
  f.wake();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  f.stop();  // the sink is read once the thread is joined
  expectContiguousOnce(sink_.lines["a"], 10);
}

TEST_F(ForwarderTest, AnUnreachableSinkOnlyGrowsTheLagAndIsCaughtUpLater) {
  addDeployment("a");
  append("a", 1, 40);
  sink_.unreachable = true;
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, fast());
  runPasses(f, 3);
  ForwardStats s = f.stats();
  EXPECT_FALSE(s.connected);
  EXPECT_NE(s.detail.find("unreachable"), std::string::npos);
  EXPECT_EQ(s.lagLines, 40u);
  EXPECT_NEAR(s.lagSeconds, 10.0, 1e-6);  // the oldest line waits since kStart
  append("a", 41, 60);  // ingest goes on meanwhile
  sink_.unreachable = false;
  runPasses(f, 2);
  expectContiguousOnce(sink_.lines["a"], 100);
  EXPECT_EQ(f.stats().lagLines, 0u);
}

TEST_F(ForwarderTest, LostConnectionsAndLostAnswersNeitherLoseNorRepeatALine) {
  addDeployment("a");
  append("a", 1, 1000);
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, fast());
  sink_.failWrites = 2;
  sink_.loseAnswers = 3;
  for (int i = 0; i < 30; ++i) {  // each pass ends at the first failure
    f.runPass();
    if (i == 5) append("a", 1001, 500);
  }
  expectContiguousOnce(sink_.lines["a"], 1500);
  EXPECT_GE(sink_.opens, 6);  // reopened after each failure
  EXPECT_EQ(f.stats().lagLines, 0u);
}

TEST_F(ForwarderTest, LinesExpiredBeforeForwardingAreOneGapLineInTheirPlace) {
  addDeployment("a");
  append("a", 1, 10);
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, fast());
  runPasses(f, 2);
  ASSERT_EQ(sink_.lines["a"].size(), 10u);
  // The sink goes away; lines 11..40 are stored, then 11..30 expire before it is back.
  sink_.unreachable = true;
  {
    std::lock_guard lock(sink_.mu_);
    sink_.connected_ = false;
  }
  append("a", 11, 20);
  plugin::LogBatch later;
  later.deploymentId = "a";
  for (uint64_t n = 31; n <= 40; ++n) {
    later.lines.push_back(LogLine{"a", n, LogStream::kStdout, kStart + 3600 * kNanosPerSecond,
                                  "late " + std::to_string(n), false});
  }
  ASSERT_TRUE(storage_->appendLogs(later).isOk());
  plugin::RetentionPolicy policy;
  policy.logsTtl = 1800 * kNanosPerSecond;
  storage_->setRetentionPolicy(policy);
  clock_.set(kStart + 3700 * kNanosPerSecond);
  ASSERT_TRUE(storage_->applyRetention().isOk());
  sink_.unreachable = false;
  runPasses(f, 3);
  const auto& got = sink_.lines["a"];
  ASSERT_EQ(got.size(), 10u + 1 + 10);
  EXPECT_EQ(got[10].lineNo, 30u);  // numbered as the last expired line
  EXPECT_EQ(got[10].stream, LogStream::kSystem);
  EXPECT_EQ(got[10].text, "[GAP] 20 lines expired before they were forwarded");
  EXPECT_EQ(got[11].lineNo, 31u);
  EXPECT_EQ(got.back().lineNo, 40u);
}

TEST_F(ForwarderTest, StopsRecordedAtTheSinkAreHandedToTheHostAndAcknowledged) {
  addDeployment("a");
  Forwarder f(*storage_, sink_, {"host-1", "", "test"}, clock_, fast());
  std::vector<std::string> stopped;
  int refuse = 1;
  f.setStopHandler([&](const std::string& id) {
    if (refuse-- > 0) return Status::unavailable("busy");  // asked again later
    stopped.push_back(id);
    return Status::ok();
  });
  sink_.stops = {{"a", kStart}};
  f.runPass();
  EXPECT_TRUE(stopped.empty());
  EXPECT_EQ(sink_.stopsTaken, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(950));  // asked about once a second
  f.runPass();
  ASSERT_EQ(stopped, std::vector<std::string>{"a"});
  EXPECT_EQ(sink_.stopsTaken, 1);
  EXPECT_TRUE(sink_.stops.empty());
}

}  // namespace
}  // namespace zc::collector
