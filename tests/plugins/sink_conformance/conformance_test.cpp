// The sink conformance suite: the contract of zc/plugin/sink.h, run against every sink plugin
// loaded through the real loader, each forwarding to its real destination (SinkTarget).
#include <gtest/gtest.h>

#include <atomic>

#include "sink_target.h"
#include "test_support.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/sink.h"

namespace zc::testing {
namespace {

using plugin::Sink;
using plugin::SinkBatch;
using plugin::SinkHostInfo;
using plugin::SinkPosition;

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;

const host::PluginRegistry& registry() {
  static const host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry();
    Status s = reg->scanDirectory(ZC_PLUGIN_DIR);
    if (s.isOk()) s = reg->openAll();
    if (!s.isOk()) std::fprintf(stderr, "scanDirectory: %s\n", s.toString().c_str());
    reg->freeze();
    return reg;
  }();
  return *r;
}

// One destination per plugin for the whole run (starting one per test would dominate its time).
SinkTarget* target(const std::string& plugin, std::string* why) {
  static std::map<std::string, std::unique_ptr<SinkTarget>> targets;
  static std::map<std::string, std::string> failures;
  if (auto it = targets.find(plugin); it != targets.end()) return it->second.get();
  if (auto it = failures.find(plugin); it != failures.end()) {
    *why = it->second;
    return nullptr;
  }
  auto t = makeSinkTarget(plugin);
  if (!t || !t->prepare(why)) {
    failures[plugin] = *why;
    return nullptr;
  }
  return (targets[plugin] = std::move(t)).get();
}

// Ids no other test (or earlier run against the same destination) uses.
std::string unique(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

LogLine line(const std::string& id, uint64_t no, const std::string& text,
             LogStream stream = LogStream::kStdout) {
  LogLine l;
  l.deploymentId = id;
  l.lineNo = no;
  l.stream = stream;
  l.ts = kStart + static_cast<TimeNs>(no) * 1000;  // whole microseconds
  l.text = text;
  return l;
}

std::vector<LogLine> lines(const std::string& id, uint64_t from, uint64_t to) {
  std::vector<LogLine> out;
  for (uint64_t n = from; n <= to; ++n) out.push_back(line(id, n, "line " + std::to_string(n)));
  return out;
}

MetricSample sample(const std::string& id, int second, double cpu) {
  return MetricSample{id, kStart + second * kNanosPerSecond, cpu, 12, 256};
}

Deployment row(const std::string& id, DeploymentStatus status) {
  Deployment d;
  d.id = id;
  d.name = "agent " + id;
  d.status = status;
  d.hostPort = 13001;
  d.containerId = "c0ffee";
  d.createdAt = kStart;
  return d;
}

class SinkConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    target_ = target(GetParam(), &why);
    if (target_ == nullptr) {
      if (std::getenv("ZC_REQUIRE_POSTGRES") != nullptr) FAIL() << why;
      GTEST_SKIP() << why;
    }
    host_ = SinkHostInfo{unique("host"), "http://127.0.0.1:7070", "test"};
    sink_ = create();
    ASSERT_NE(sink_, nullptr);
    Status st = sink_->open(host_);
    ASSERT_TRUE(st.isOk()) << st.toString();
  }
  void TearDown() override {
    if (sink_) {
      EXPECT_TRUE(sink_->close().isOk());
    }
  }

  host::PluginPtr<Sink> create() {
    plugin::PluginContext ctx;
    ctx.options = target_->options();
    ctx.logger = &logger_;
    ctx.clock = &clock_;
    auto created = registry().create<Sink>(GetParam(), ctx);
    EXPECT_TRUE(created.isOk()) << created.status().toString();
    return created.isOk() ? std::move(created).value() : nullptr;
  }

  SinkPosition position(const std::string& id) {
    auto p = sink_->position(id);
    EXPECT_TRUE(p.isOk()) << p.status().toString();
    return p.isOk() ? *p : SinkPosition{};
  }

  static std::vector<uint64_t> lineNos(const std::vector<LogLine>& ls) {
    std::vector<uint64_t> out;
    for (const auto& l : ls) out.push_back(l.lineNo);
    return out;
  }

  SinkTarget* target_ = nullptr;
  NullLogger logger_;
  ManualClock clock_{kStart};
  SinkHostInfo host_;
  host::PluginPtr<Sink> sink_;
};

TEST_P(SinkConformanceTest, AnUnknownDeploymentIsAtPositionZero) {
  EXPECT_EQ(position(unique("d")), SinkPosition{});
}

TEST_P(SinkConformanceTest, AWriteStoresEverythingAndMovesThePosition) {
  std::string id = unique("d");
  SinkBatch b{id, row(id, DeploymentStatus::kRunning), lines(id, 1, 10),
              {sample(id, 1, 150.5), sample(id, 2, 3)}};
  b.lines[3].stream = LogStream::kStderr;
  b.lines[4].stream = LogStream::kSystem;
  b.lines[5].truncated = true;
  ASSERT_TRUE(sink_->write(b).isOk());
  EXPECT_EQ(position(id), (SinkPosition{10, kStart + 2 * kNanosPerSecond}));
  EXPECT_EQ(target_->storedLines(id), b.lines);
  EXPECT_EQ(target_->storedSamples(id), b.samples);
  auto stored = target_->storedRow(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->host, host_.hostId);
  EXPECT_EQ(stored->name, "agent " + id);
  EXPECT_EQ(stored->hostPort, 13001);
}

TEST_P(SinkConformanceTest, AResentOrOverlappingBatchStoresNothingTwice) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 1, 10), {sample(id, 1, 1)}}).isOk());
  // The same batch again (an acknowledgement lost), then one overlapping it.
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 1, 10), {sample(id, 1, 1)}}).isOk());
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 6, 15), {sample(id, 1, 1), sample(id, 2, 2)}})
                  .isOk());
  EXPECT_EQ(lineNos(target_->storedLines(id)), lineNos(lines(id, 1, 15)));
  EXPECT_EQ(target_->storedSamples(id).size(), 2u);
  EXPECT_EQ(position(id).lastLineNo, 15u);
}

TEST_P(SinkConformanceTest, ABatchWithAGapOrAForeignLineIsRefusedWhole) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 1, 3), {}}).isOk());
  auto gap = lines(id, 4, 8);
  gap.erase(gap.begin() + 2);
  Status st = sink_->write({id, std::nullopt, gap, {}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.toString();
  auto foreign = lines(id, 4, 6);
  foreign[1].deploymentId = unique("other");
  st = sink_->write({id, std::nullopt, foreign, {}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.toString();
  st = sink_->write({"bad id!", std::nullopt, {}, {}});
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.toString();
  EXPECT_EQ(position(id).lastLineNo, 3u);
  EXPECT_EQ(target_->storedLines(id).size(), 3u);
}

TEST_P(SinkConformanceTest, LinesMayStartPastThePositionAfterLocalRetention) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 1, 2), {}}).isOk());
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 50, 52), {}}).isOk());
  EXPECT_EQ(lineNos(target_->storedLines(id)), (std::vector<uint64_t>{1, 2, 50, 51, 52}));
  EXPECT_EQ(position(id).lastLineNo, 52u);
}

TEST_P(SinkConformanceTest, TheRowIsReplacedByTheLatestOne) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, row(id, DeploymentStatus::kRunning), {}, {}}).isOk());
  Deployment stopped = row(id, DeploymentStatus::kStopped);
  stopped.hostPort.reset();
  stopped.containerId.clear();
  ASSERT_TRUE(sink_->write({id, stopped, {}, {}}).isOk());
  auto stored = target_->storedRow(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->status, DeploymentStatus::kStopped);
  EXPECT_FALSE(stored->hostPort.has_value());
  EXPECT_EQ(stored->containerId, "");
}

TEST_P(SinkConformanceTest, PositionsArePerDeploymentAndPerHost) {
  std::string a = unique("d"), b = unique("d");
  ASSERT_TRUE(sink_->write({a, std::nullopt, lines(a, 1, 5), {}}).isOk());
  ASSERT_TRUE(sink_->write({b, std::nullopt, lines(b, 1, 2), {}}).isOk());
  EXPECT_EQ(position(a).lastLineNo, 5u);
  EXPECT_EQ(position(b).lastLineNo, 2u);
  // Reopened as the same host: the positions are still there; as another host: its own.
  ASSERT_TRUE(sink_->close().isOk());
  ASSERT_TRUE(sink_->open(host_).isOk());
  EXPECT_EQ(position(a).lastLineNo, 5u);
  auto other = create();
  ASSERT_TRUE(other->open(SinkHostInfo{unique("host"), "", "test"}).isOk());
  auto p = other->position(a);
  ASSERT_TRUE(p.isOk());
  EXPECT_EQ(p->lastLineNo, 0u);
  EXPECT_TRUE(other->close().isOk());
}

TEST_P(SinkConformanceTest, SamplesNotAfterThePositionAreSkipped) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, std::nullopt, {}, {sample(id, 5, 1), sample(id, 6, 2)}}).isOk());
  ASSERT_TRUE(sink_->write({id, std::nullopt, {}, {sample(id, 6, 9), sample(id, 7, 3)}}).isOk());
  auto stored = target_->storedSamples(id);
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[1].cpuPct, 2);  // the first write of second 6 stays
  EXPECT_EQ(position(id).lastSampledAt, kStart + 7 * kNanosPerSecond);
}

TEST_P(SinkConformanceTest, Utf8TextIsKeptExactly) {
  std::string id = unique("d");
  auto ls = lines(id, 1, 3);
  ls[0].text = "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x9A\x80 tab\there 'quote' \"dq\" \\ back";
  ls[1].text = "";
  ls[2].text = std::string(100000, 'x');
  ASSERT_TRUE(sink_->write({id, std::nullopt, ls, {}}).isOk());
  EXPECT_EQ(target_->storedLines(id), ls);
}

TEST_P(SinkConformanceTest, ALargeBatchIsStoredWhole) {
  std::string id = unique("d");
  ASSERT_TRUE(sink_->write({id, std::nullopt, lines(id, 1, 5000), {}}).isOk());
  EXPECT_EQ(target_->storedLines(id).size(), 5000u);
  EXPECT_EQ(position(id).lastLineNo, 5000u);
}

INSTANTIATE_TEST_SUITE_P(AllSinks, SinkConformanceTest, ::testing::ValuesIn(sinkPlugins()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace zc::testing
