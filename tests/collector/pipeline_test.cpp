// The log pipeline (DeploymentManager + Sequencer) against a scripted runtime: one contiguous
// lineNo sequence across followed and system lines, exact resume from the stored cursor, no loss
// while storage fails, committed batches on the live bus in order. The real storage plugins are
// loaded through the loader; the runtime is a fake so faults can be injected at will (the real
// engine is exercised in tests/plugins/runtime_docker and tests/integration).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "deployment_manager.h"
#include "test_support.h"
#include "zc/host/plugin_loader.h"

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// A runtime with one container whose log is a vector of lines; the cursor is the decimal count
// of lines delivered. Lines can be appended while it runs.
class ScriptedRuntime final : public plugin::Runtime {
 public:
  explicit ScriptedRuntime(size_t chunk) : chunk_(chunk) {
    info_.deploymentId = "dep-1";
    info_.containerId = "c0ffee";
    info_.name = "zynd-dep-1";
    info_.running = true;
  }

  void addLines(size_t n, LogStream stream = LogStream::kStdout) {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < n; ++i) {
      plugin::RawLine l;
      l.stream = stream;
      l.ts = systemClock().now();
      l.text = "line " + std::to_string(log_.size() + 1);
      log_.push_back(std::move(l));
    }
    cv_.notify_all();
  }
  size_t logSize() {
    std::lock_guard lock(mu_);
    return log_.size();
  }

  Status connect() noexcept override { return Status::ok(); }
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override {
    return std::vector<plugin::ContainerInfo>{info_};
  }
  Result<plugin::ContainerInfo> inspect(std::string_view) noexcept override { return info_; }

  class Follow final : public plugin::Subscription {
   public:
    Follow(ScriptedRuntime& rt, size_t from, plugin::LogConsumer* consumer)
        : rt_(rt), thread_([this, from, consumer] { run(from, consumer); }) {}
    ~Follow() override { stop(); }
    void stop() noexcept override {
      {
        std::lock_guard lock(rt_.mu_);
        stopped_ = true;
      }
      rt_.cv_.notify_all();
      if (thread_.joinable()) thread_.join();
    }

   private:
    void run(size_t pos, plugin::LogConsumer* consumer) {
      for (;;) {
        plugin::LogChunk chunk;
        {
          std::unique_lock lock(rt_.mu_);
          rt_.cv_.wait(lock, [&] { return stopped_ || pos < rt_.log_.size(); });
          if (stopped_) return;
          size_t end = std::min(rt_.log_.size(), pos + rt_.chunk_);
          chunk.lines.assign(rt_.log_.begin() + pos, rt_.log_.begin() + end);
          pos = end;
          chunk.cursor = std::to_string(pos);
        }
        if (!consumer->consume(std::move(chunk))) return;
      }
    }
    ScriptedRuntime& rt_;
    bool stopped_ = false;  // guarded by rt_.mu_
    std::thread thread_;
  };

  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo&,
                                                           std::string_view cursor,
                                                           plugin::LogConsumer* consumer) noexcept override {
    size_t from = cursor.empty() ? 0 : std::stoul(std::string(cursor));
    follows_.fetch_add(1);
    return std::unique_ptr<plugin::Subscription>(new Follow(*this, from, consumer));
  }

  class Events final : public plugin::Subscription {
   public:
    void stop() noexcept override {}
  };
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(plugin::EventConsumer* c) noexcept override {
    plugin::RuntimeEvent ev;
    ev.type = plugin::RuntimeEventType::kConnected;
    c->onEvent(ev);
    return std::unique_ptr<plugin::Subscription>(new Events);
  }
  Result<plugin::ResourceSample> sampleResources(std::string_view) noexcept override {
    return Status::notFound("not scripted");
  }
  Status stopContainer(std::string_view, std::chrono::seconds) noexcept override { return Status::ok(); }
  Status removeContainer(std::string_view, bool) noexcept override { return Status::ok(); }

  std::atomic<int> follows_{0};

 private:
  const size_t chunk_;
  plugin::ContainerInfo info_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<plugin::RawLine> log_;
};

// Forwards to a real storage, failing appendLogs while `failing` is set (disk full).
class FlakyStorage final : public plugin::Storage {
 public:
  explicit FlakyStorage(plugin::Storage& inner) : inner_(inner) {}
  std::atomic<bool> failing{false};
  std::atomic<int> refusals{0};

  Status open() noexcept override { return inner_.open(); }
  Status close() noexcept override { return inner_.close(); }
  void setRetentionPolicy(const plugin::RetentionPolicy& p) noexcept override { inner_.setRetentionPolicy(p); }
  Status putDeployment(const Deployment& d) noexcept override { return inner_.putDeployment(d); }
  Result<Deployment> getDeployment(std::string_view id) noexcept override { return inner_.getDeployment(id); }
  Result<std::vector<Deployment>> listDeployments() noexcept override { return inner_.listDeployments(); }
  Status deleteDeployment(std::string_view id) noexcept override { return inner_.deleteDeployment(id); }
  // Stores the next batch but reports it failed (e.g. an fsync error after the WAL write).
  std::atomic<bool> lieOnce{false};

  Status appendLogs(const plugin::LogBatch& b) noexcept override {
    if (failing) {
      refusals.fetch_add(1);
      return Status::ioError("No space left on device");
    }
    if (!b.lines.empty() && lieOnce.exchange(false)) {
      Status s = inner_.appendLogs(b);
      refusals.fetch_add(1);
      return s.isOk() ? Status::ioError("fsync failed after the write") : s;
    }
    return inner_.appendLogs(b);
  }
  Result<uint64_t> nextLineNo(std::string_view id) noexcept override { return inner_.nextLineNo(id); }
  Result<std::string> getCursor(std::string_view id, std::string_view key) noexcept override {
    return inner_.getCursor(id, key);
  }
  Result<plugin::LogPage> readLogs(std::string_view id, uint64_t since, plugin::LogReadLimit limit) noexcept override {
    return inner_.readLogs(id, since, limit);
  }
  Status appendMetrics(const std::vector<MetricSample>& s) noexcept override { return inner_.appendMetrics(s); }
  Result<std::vector<MetricSample>> readMetrics(std::string_view id, TimeNs f, TimeNs t) noexcept override {
    return inner_.readMetrics(id, f, t);
  }
  Result<plugin::RetentionReport> applyRetention() noexcept override { return inner_.applyRetention(); }
  plugin::StorageStats stats() noexcept override { return inner_.stats(); }
  Result<uint64_t> usedBytes() noexcept override { return inner_.usedBytes(); }
  Status dropLogLinesThrough(std::string_view id, uint64_t through) noexcept override {
    return inner_.dropLogLinesThrough(id, through);
  }

 private:
  plugin::Storage& inner_;
};

class BusRecorder final : public host::LiveSubscriber {
 public:
  void onLines(const host::LineBatch& batch) noexcept override {
    std::lock_guard lock(mu);
    for (const auto& l : *batch) lineNos.push_back(l.lineNo);
  }
  void onStatus(DeploymentStatus) noexcept override {}
  std::mutex mu;
  std::vector<uint64_t> lineNos;
};

class PipelineTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    openStorage();
  }
  void openStorage() {
    plugin::PluginContext ctx;
    ctx.options["data_dir"] = dir_.path();
    ctx.logger = &logger_;
    ctx.clock = &systemClock();
    if (std::string(GetParam()) == "memory") ctx.options.clear();
    auto s = registry_.create<plugin::Storage>(GetParam(), ctx);
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    storage_ = std::move(s).value();
    ASSERT_TRUE(storage_->open().isOk());
  }
  // Every stored line of dep-1, in order.
  std::vector<LogLine> readAll() {
    std::vector<LogLine> out;
    uint64_t since = 0;
    for (;;) {
      auto page = storage_->readLogs("dep-1", since, 5000);
      EXPECT_TRUE(page.isOk());
      if (!page.isOk() || page->lines.empty()) return out;
      since = page->lines.back().lineNo;
      for (auto& l : page->lines) out.push_back(std::move(l));
    }
  }
  static void expectContiguous(const std::vector<LogLine>& lines) {
    for (size_t i = 0; i < lines.size(); ++i) {
      ASSERT_EQ(lines[i].lineNo, i + 1) << "gap or duplicate at index " << i;
    }
  }
  // stdout lines carry "line N" for N = 1, 2, ... exactly once, in order.
  static void expectEachScriptedLineOnce(const std::vector<LogLine>& lines, size_t n) {
    size_t next = 1;
    for (const auto& l : lines) {
      if (l.stream != LogStream::kStdout) continue;
      ASSERT_EQ(l.text, "line " + std::to_string(next)) << "at lineNo " << l.lineNo;
      ++next;
    }
    EXPECT_EQ(next - 1, n);
  }

  zc::testing::TempDir dir_;
  zc::testing::NullLogger logger_;
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  host::LiveBus bus_;
};

TEST_P(PipelineTest, FollowedAndSystemLinesShareOneContiguousSequence) {
  ScriptedRuntime rt(/*chunk=*/97);
  DeploymentManager mgr(*storage_, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      rt.addLines(100);
      std::this_thread::sleep_for(1ms);
    }
  });
  ASSERT_TRUE(zc::testing::waitFor([&] { return mgr.get("dep-1").isOk(); }, 10s));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(mgr.appendSystemLine("dep-1", "[TEST] system " + std::to_string(i)).isOk());
  }
  producer.join();
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) == 10101; }, 20s));
  mgr.stop();
  auto lines = readAll();
  ASSERT_EQ(lines.size(), 10100u);
  expectContiguous(lines);
  expectEachScriptedLineOnce(lines, 10000);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const LogLine& l) { return l.stream == LogStream::kSystem; }),
            100);
}

TEST_P(PipelineTest, ResumesExactlyFromTheStoredCursorAfterARestart) {
  ScriptedRuntime rt(/*chunk=*/333);
  rt.addLines(5000);
  {
    DeploymentManager mgr(*storage_, &rt, nullptr, bus_, systemClock());
    ASSERT_TRUE(mgr.start().isOk());
    ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) == 5001; }, 20s));
    mgr.stop();
  }
  auto cursor = storage_->getCursor("dep-1", "c0ffee");
  ASSERT_TRUE(cursor.isOk());
  EXPECT_EQ(cursor.value(), "5000");
  rt.addLines(5000);
  if (std::string(GetParam()) == "rocksdb") {  // a durable store survives the process too
    ASSERT_TRUE(storage_->close().isOk());
    storage_.reset();
    openStorage();
  }
  DeploymentManager mgr(*storage_, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) == 10001; }, 20s));
  mgr.stop();
  auto lines = readAll();
  ASSERT_EQ(lines.size(), 10000u);
  expectContiguous(lines);
  expectEachScriptedLineOnce(lines, 10000);
}

TEST_P(PipelineTest, StorageFailureHoldsTheFollowAndLosesNothing) {
  FlakyStorage flaky(*storage_);
  ScriptedRuntime rt(/*chunk=*/500);
  DeploymentManager mgr(flaky, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return mgr.get("dep-1").isOk(); }, 10s));
  flaky.failing = true;
  rt.addLines(3000);
  ASSERT_TRUE(zc::testing::waitFor([&] { return flaky.refusals.load() >= 3; }, 10s));
  EXPECT_EQ(storage_->nextLineNo("dep-1").valueOr(0), 1u);
  EXPECT_GE(mgr.counters().commitFailures.load(), 3u);
  flaky.failing = false;
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) == 3001; }, 20s));
  mgr.stop();
  auto lines = readAll();
  expectContiguous(lines);
  expectEachScriptedLineOnce(lines, 3000);
}

TEST_P(PipelineTest, ABatchStoredButReportedFailedIsNotStoredTwice) {
  FlakyStorage flaky(*storage_);
  ScriptedRuntime rt(/*chunk=*/250);
  DeploymentManager mgr(flaky, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  rt.addLines(500);
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) == 501; }, 20s));
  flaky.lieOnce = true;
  rt.addLines(1000);
  ASSERT_TRUE(zc::testing::waitFor([&] { return storage_->nextLineNo("dep-1").valueOr(0) >= 1501; }, 20s));
  std::this_thread::sleep_for(300ms);
  mgr.stop();
  EXPECT_EQ(flaky.refusals.load(), 1);
  auto lines = readAll();
  ASSERT_EQ(lines.size(), 1500u);
  expectContiguous(lines);
  expectEachScriptedLineOnce(lines, 1500);
}

TEST_P(PipelineTest, LiveBusSeesCommittedBatchesInOrder) {
  auto rec = std::make_shared<BusRecorder>();
  auto sub = bus_.subscribe("dep-1", rec);
  ScriptedRuntime rt(/*chunk=*/64);
  DeploymentManager mgr(*storage_, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  rt.addLines(2000);
  ASSERT_TRUE(zc::testing::waitFor([&] {
    std::lock_guard lock(rec->mu);
    return rec->lineNos.size() == 2000;
  }, 20s));
  mgr.stop();
  bus_.unsubscribe(sub);
  for (size_t i = 0; i < rec->lineNos.size(); ++i) ASSERT_EQ(rec->lineNos[i], i + 1);
  EXPECT_EQ(mgr.counters().linesIngested.load(), 2000u);
}

TEST_P(PipelineTest, StopInterruptsAFollowBlockedOnFailingStorage) {
  FlakyStorage flaky(*storage_);
  flaky.failing = true;
  ScriptedRuntime rt(/*chunk=*/10);
  rt.addLines(100);
  DeploymentManager mgr(flaky, &rt, nullptr, bus_, systemClock());
  ASSERT_TRUE(mgr.start().isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return flaky.refusals.load() >= 1; }, 10s));
  auto t0 = std::chrono::steady_clock::now();
  mgr.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

INSTANTIATE_TEST_SUITE_P(Storage, PipelineTest, ::testing::Values("memory", "rocksdb"));

}  // namespace
}  // namespace zc::collector
