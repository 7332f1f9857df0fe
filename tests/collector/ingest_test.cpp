// The ingest retry (collector/src/ingest.h): a chunk whose storage write fails is retried with
// the same lines until stored, stored once, numbered once, and published only after the write;
// a retrying consume() gives up promptly when its follow is cancelled or the ingest is stopped.
// The storage is a small in-memory fake that refuses a scripted number of writes.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "ingest.h"
#include "test_support.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// Keeps log lines and cursors in memory; refuses the next `refuse` log writes as a full disk
// would (refuse < 0: every write).
class RefusingStorage final : public plugin::Storage {
 public:
  std::atomic<int> refuse{0};
  std::atomic<int> attempts{0};
  std::atomic<int> stored{0};  // successful log writes

  std::vector<LogLine> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }

  Status appendLogs(const plugin::LogBatch& b) noexcept override {
    attempts.fetch_add(1);
    int left = refuse.load();
    if (left != 0) {
      if (left > 0) refuse.fetch_sub(1);
      return Status::ioError("No space left on device");
    }
    std::lock_guard lock(mu_);
    if (!b.lines.empty() && b.lines.front().lineNo != lines_.size() + 1) {
      return Status::failedPrecondition("lineNo does not follow the stored ones");
    }
    lines_.insert(lines_.end(), b.lines.begin(), b.lines.end());
    if (b.cursor) cursors_[b.cursor->key] = b.cursor->value;
    stored.fetch_add(1);
    return Status::ok();
  }
  Result<uint64_t> nextLineNo(std::string_view) noexcept override {
    std::lock_guard lock(mu_);
    return static_cast<uint64_t>(lines_.size() + 1);
  }
  Result<std::string> getCursor(std::string_view, std::string_view key) noexcept override {
    std::lock_guard lock(mu_);
    auto it = cursors_.find(std::string(key));
    if (it == cursors_.end()) return Status::notFound("no cursor");
    return it->second;
  }

  // Not used by the ingest.
  Status open() noexcept override { return Status::ok(); }
  Status close() noexcept override { return Status::ok(); }
  void setRetentionPolicy(const plugin::RetentionPolicy&) noexcept override {}
  Status putDeployment(const Deployment&) noexcept override { return Status::ok(); }
  Result<Deployment> getDeployment(std::string_view) noexcept override { return Status::notFound("-"); }
  Result<std::vector<Deployment>> listDeployments() noexcept override { return std::vector<Deployment>{}; }
  Status deleteDeployment(std::string_view) noexcept override { return Status::ok(); }
  Result<plugin::LogPage> readLogs(std::string_view, uint64_t, plugin::LogReadLimit) noexcept override {
    return Status::notFound("-");
  }
  Status appendMetrics(const std::vector<MetricSample>&) noexcept override { return Status::ok(); }
  Result<std::vector<MetricSample>> readMetrics(std::string_view, TimeNs, TimeNs) noexcept override {
    return std::vector<MetricSample>{};
  }
  Result<plugin::RetentionReport> applyRetention() noexcept override { return plugin::RetentionReport{}; }
  plugin::StorageStats stats() noexcept override { return {}; }
  Result<uint64_t> usedBytes() noexcept override { return uint64_t{0}; }
  Status dropLogLinesThrough(std::string_view, uint64_t) noexcept override { return Status::ok(); }

 private:
  std::mutex mu_;
  std::vector<LogLine> lines_;
  std::map<std::string, std::string> cursors_;
};

class PublishedLines final : public host::LiveSubscriber {
 public:
  void onLines(const host::LineBatch& batch) noexcept override {
    std::lock_guard lock(mu_);
    for (const auto& l : *batch) lineNos_.push_back(l.lineNo);
  }
  void onStatus(DeploymentStatus) noexcept override {}
  std::vector<uint64_t> lineNos() {
    std::lock_guard lock(mu_);
    return lineNos_;
  }

 private:
  std::mutex mu_;
  std::vector<uint64_t> lineNos_;
};

plugin::LogChunk chunkOf(size_t n, size_t firstLine) {
  plugin::LogChunk chunk;
  for (size_t i = 0; i < n; ++i) {
    plugin::RawLine l;
    l.stream = LogStream::kStdout;
    l.ts = systemClock().now();
    l.text = "line " + std::to_string(firstLine + i);
    chunk.lines.push_back(std::move(l));
  }
  chunk.cursor = std::to_string(firstLine + n - 1);
  return chunk;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    published_ = std::make_shared<PublishedLines>();
    sub_ = bus_.subscribe("dep-1", published_);
    ASSERT_TRUE(seq_->load().isOk());
  }
  void TearDown() override { bus_.unsubscribe(sub_); }

  RefusingStorage storage_;
  host::LiveBus bus_;
  std::shared_ptr<Sequencer> seq_ =
      std::make_shared<Sequencer>("dep-1", storage_, bus_, systemClock());
  std::shared_ptr<PublishedLines> published_;
  host::LiveBus::SubscriptionId sub_{};
  PipelineCounters counters_;
};

TEST(GapLineTest, SaysBetweenWhatItFellOrThatTheStartIsMissing) {
  plugin::LogGap gap{LogStream::kStderr, 1'000'000'000, 2'000'000'000, 7};
  EXPECT_EQ(gapLine(gap),
            "[GAP] the engine no longer holds the stderr lines between "
            "1970-01-01T00:00:01.000000000Z and 1970-01-01T00:00:02.000000000Z (7 lines)");
  gap.after = 0;  // nothing stored before it
  gap.lines.reset();
  EXPECT_EQ(gapLine(gap),
            "[GAP] the engine no longer holds the stderr lines before "
            "1970-01-01T00:00:02.000000000Z (count unknown)");
}

TEST_F(IngestTest, AChunkRefusedThreeTimesIsStoredOnceAndNumberedOnce) {
  Ingest ingest(counters_, systemClock(), RetryBackoff(1ms, 4ms));
  auto consumer = ingest.consumer(seq_, "c0ffee", nullptr);
  storage_.refuse = 3;
  EXPECT_TRUE(consumer->consume(chunkOf(5, 1)));
  EXPECT_EQ(storage_.attempts.load(), 4);
  EXPECT_EQ(storage_.stored.load(), 1);
  EXPECT_EQ(counters_.commitFailures.load(), 3u);
  EXPECT_EQ(counters_.linesIngested.load(), 5u);
  EXPECT_EQ(counters_.batchesCommitted.load(), 1u);
  // The next chunk continues the sequence: no number was used by the refused attempts.
  EXPECT_TRUE(consumer->consume(chunkOf(2, 6)));
  auto lines = storage_.lines();
  ASSERT_EQ(lines.size(), 7u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].lineNo, i + 1);
    EXPECT_EQ(lines[i].text, "line " + std::to_string(i + 1));
  }
  EXPECT_EQ(storage_.getCursor("dep-1", "c0ffee").valueOr(""), "7");
  EXPECT_EQ(published_->lineNos(), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(IngestTest, TheConsumerBlocksWhileRefusedAndPublishesNothingBeforeTheWrite) {
  Ingest ingest(counters_, systemClock(), RetryBackoff(5ms, 5ms));
  auto consumer = ingest.consumer(seq_, "c0ffee", nullptr);
  storage_.refuse = -1;
  auto done = std::async(std::launch::async, [&] { return consumer->consume(chunkOf(3, 1)); });
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_.attempts.load() >= 5; }, 5s));
  EXPECT_EQ(done.wait_for(0ms), std::future_status::timeout);  // back-pressure: still held
  EXPECT_TRUE(published_->lineNos().empty());
  storage_.refuse = 0;
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(done.get());
  EXPECT_EQ(storage_.stored.load(), 1);
  EXPECT_EQ(published_->lineNos(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(IngestTest, StopWakesARetryingConsumerPromptly) {
  Ingest ingest(counters_, systemClock(), RetryBackoff(1h, 1h));
  auto consumer = ingest.consumer(seq_, "c0ffee", nullptr);
  storage_.refuse = -1;
  auto done = std::async(std::launch::async, [&] { return consumer->consume(chunkOf(3, 1)); });
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_.attempts.load() >= 1; }, 5s));
  auto t0 = std::chrono::steady_clock::now();
  ingest.stop();
  ASSERT_EQ(done.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(done.get());  // gave up: the chunk is re-read from the stored cursor
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(storage_.stored.load(), 0);
  EXPECT_TRUE(published_->lineNos().empty());
  // After stop a failed write is not retried at all.
  EXPECT_FALSE(consumer->consume(chunkOf(1, 1)));
}

TEST_F(IngestTest, CancelWakesOnlyItsOwnConsumer) {
  Ingest ingest(counters_, systemClock(), RetryBackoff(1h, 1h));
  auto mine = ingest.consumer(seq_, "c0ffee", nullptr);
  auto other = ingest.consumer(seq_, "other", nullptr);
  storage_.refuse = -1;
  auto a = std::async(std::launch::async, [&] { return mine->consume(chunkOf(1, 1)); });
  auto b = std::async(std::launch::async, [&] { return other->consume(chunkOf(1, 1)); });
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_.attempts.load() >= 2; }, 5s));
  mine->cancel();
  ASSERT_EQ(a.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(a.get());
  EXPECT_EQ(b.wait_for(100ms), std::future_status::timeout);
  ingest.stop();
  ASSERT_EQ(b.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(b.get());
}

TEST_F(IngestTest, TheEndOfTheFollowReachesTheCallback) {
  Ingest ingest(counters_, systemClock());
  std::promise<Status> ended;
  auto consumer = ingest.consumer(seq_, "c0ffee", [&](Status why) { ended.set_value(why); });
  consumer->ended(Status::ok());
  auto f = ended.get_future();
  ASSERT_EQ(f.wait_for(1s), std::future_status::ready);
  EXPECT_TRUE(f.get().isOk());
}

TEST(RetryBackoffTest, DoublesFromTheFirstDelayUpToTheMaximum) {
  RetryBackoff b(50ms, 300ms);
  EXPECT_EQ(b.next(), 50ms);
  EXPECT_EQ(b.next(), 100ms);
  EXPECT_EQ(b.next(), 200ms);
  EXPECT_EQ(b.next(), 300ms);
  EXPECT_EQ(b.next(), 300ms);
}

}  // namespace
}  // namespace zc::collector
