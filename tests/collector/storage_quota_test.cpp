// StorageQuota (--max-storage-bytes) against the real RocksDB plugin: past the quota the oldest
// stdout/stderr lines go first, across deployments; system lines stay; each deployment that lost
// lines gets one [GAP] storage quota line per pass; what remains is contiguous from the gap and
// nothing newer is lost; lines the sink has not acknowledged go only when nothing else is left.
#include "storage_quota.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"
#include "zc/host/plugin_loader.h"

namespace zc::collector {
namespace {

constexpr TimeNs kStart = 1'800'000'000 * kNanosPerSecond;
constexpr uint64_t kMiB = 1u << 20;

class StorageQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &clock_;
    // Small memtables and no compression: the store's size follows what is written.
    ctx.options = {{"data_dir", dir_.path()}, {"write_buffer_mb", "1"}, {"compression", "none"}};
    auto created = registry_.create<plugin::Storage>("rocksdb", ctx);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    storage_ = std::move(created).value();
    ASSERT_TRUE(storage_->open().isOk());
  }
  void TearDown() override {
    if (storage_) EXPECT_TRUE(storage_->close().isOk());
  }

  void addDeployment(const std::string& id) {
    Deployment d;
    d.id = id;
    d.name = id;
    d.createdAt = kStart;
    ASSERT_TRUE(storage_->putDeployment(d).isOk());
  }
  // Appends `count` stdout lines of ~200 random bytes, the k-th at time tsOf(id, lineNo).
  void appendLines(const std::string& id, size_t count, TimeNs firstTs, int64_t step) {
    auto next = storage_->nextLineNo(id);
    ASSERT_TRUE(next.isOk());
    plugin::LogBatch b;
    b.deploymentId = id;
    for (size_t i = 0; i < count; ++i) {
      std::string text(200, ' ');
      for (char& c : text) c = static_cast<char>('a' + rng_() % 26);
      const uint64_t lineNo = *next + i;
      const TimeNs ts = firstTs + static_cast<int64_t>(i) * step;
      tsOf_[id][lineNo] = ts;
      b.lines.push_back(LogLine{id, lineNo, LogStream::kStdout, ts, std::move(text), false});
    }
    ASSERT_TRUE(storage_->appendLogs(b).isOk());
  }
  // What a sequencer does for a system line: the next lineNo, stored alone.
  Status appendSystem(const std::string& id, std::string text) {
    auto next = storage_->nextLineNo(id);
    if (!next.isOk()) return next.status();
    plugin::LogBatch b;
    b.deploymentId = id;
    b.lines.push_back(LogLine{id, *next, LogStream::kSystem, clock_.now(), std::move(text), false});
    return storage_->appendLogs(b);
  }
  std::vector<LogLine> readAll(const std::string& id) {
    auto page = storage_->readLogs(id, 0, plugin::LogReadLimit(1'000'000));
    EXPECT_TRUE(page.isOk());
    return page.isOk() ? page->lines : std::vector<LogLine>{};
  }
  StorageQuota makeQuota(uint64_t maxBytes, StorageQuota::ForwardedThrough forwarded = {}) {
    QuotaOptions o;
    o.maxBytes = maxBytes;
    return StorageQuota(
        *storage_, [this](const std::string& id, std::string text) {
          return appendSystem(id, std::move(text));
        },
        std::move(forwarded), o);
  }
  // Runs passes until the store is under `maxBytes` (bounded: 30 passes).
  void trimUntilUnder(StorageQuota& quota, uint64_t maxBytes) {
    for (int i = 0; i < 30; ++i) {
      auto pass = quota.runOnce();
      ASSERT_TRUE(pass.isOk()) << pass.status().toString();
      auto used = storage_->usedBytes();
      ASSERT_TRUE(used.isOk());
      if (*used <= maxBytes) return;
    }
    FAIL() << "still over the quota after 30 passes: " << *storage_->usedBytes();
  }
  static std::vector<LogLine> gapLines(const std::vector<LogLine>& lines) {
    std::vector<LogLine> out;
    for (const LogLine& l : lines) {
      if (l.stream == LogStream::kSystem && l.text.rfind("[GAP] storage quota: dropped ", 0) == 0) {
        out.push_back(l);
      }
    }
    return out;
  }

  testing::TempDir dir_;
  testing::NullLogger logger_;
  ManualClock clock_{kStart + 3600 * kNanosPerSecond};
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  std::mt19937 rng_{42};
  std::map<std::string, std::map<uint64_t, TimeNs>> tsOf_;
};

TEST_F(StorageQuotaTest, UnderTheQuotaNothingIsDropped) {
  addDeployment("a");
  appendLines("a", 1000, kStart, 1000);
  StorageQuota quota = makeQuota(64 * kMiB);
  auto pass = quota.runOnce();
  ASSERT_TRUE(pass.isOk());
  EXPECT_EQ(pass->linesDropped, 0u);
  EXPECT_EQ(readAll("a").size(), 1000u);
}

TEST_F(StorageQuotaTest, TheOldestLinesGoFirstWithAGapLineAndWhatRemainsIsContiguous) {
  addDeployment("a");
  addDeployment("b");
  ASSERT_TRUE(appendSystem("a", "[START] kept").isOk());  // lineNo 1: system lines stay
  // "a" is older than "b" overall, their times overlap in the middle.
  for (int round = 0; round < 8; ++round) {
    appendLines("a", 2000, kStart + round * 2000 * 1000, 1000);
    appendLines("b", 2000, kStart + (round + 4) * 2000 * 1000, 1000);
  }
  const uint64_t nextA = *storage_->nextLineNo("a");
  const uint64_t nextB = *storage_->nextLineNo("b");
  const uint64_t used = *storage_->usedBytes();
  ASSERT_GT(used, 5 * kMiB);  // ~32,000 lines of 200 bytes
  const uint64_t max = used / 2;

  StorageQuota quota = makeQuota(max);
  trimUntilUnder(quota, max);

  TimeNs newestDropped = 0;
  TimeNs oldestKept = INT64_MAX;
  uint64_t droppedTotal = 0;
  for (const auto& [id, next] : {std::pair{std::string("a"), nextA}, {std::string("b"), nextB}}) {
    std::vector<LogLine> lines = readAll(id);
    ASSERT_FALSE(lines.empty());
    std::vector<LogLine> stdoutLines;
    for (const LogLine& l : lines) {
      if (l.stream != LogStream::kSystem) stdoutLines.push_back(l);
    }
    ASSERT_FALSE(stdoutLines.empty()) << id;
    // Contiguous from the first kept line to the newest: nothing newer lost.
    for (size_t i = 1; i < stdoutLines.size(); ++i) {
      ASSERT_EQ(stdoutLines[i].lineNo, stdoutLines[i - 1].lineNo + 1) << id;
    }
    EXPECT_EQ(stdoutLines.back().lineNo, next - 1) << id;
    const uint64_t firstKept = stdoutLines.front().lineNo;
    // Every dropped line is older than every kept one, across deployments.
    for (const auto& [lineNo, ts] : tsOf_[id]) {
      if (lineNo < firstKept) {
        newestDropped = std::max(newestDropped, ts);
        ++droppedTotal;
      } else {
        oldestKept = std::min(oldestKept, ts);
      }
    }
    // The gap lines (after the lines they speak of) add up to what went, the last one ending
    // just before the first kept line.
    std::vector<LogLine> gaps = gapLines(lines);
    uint64_t saidDropped = 0;
    for (const LogLine& g : gaps) {
      EXPECT_GE(g.lineNo, next) << g.text;
      EXPECT_EQ(g.text.find("not yet forwarded"), std::string::npos) << g.text;
      saidDropped += std::stoull(g.text.substr(std::string("[GAP] storage quota: dropped ").size()));
    }
    EXPECT_EQ(saidDropped, firstKept - (id == "a" ? 2 : 1)) << id;
    if (firstKept > (id == "a" ? 2u : 1u)) {
      ASSERT_FALSE(gaps.empty()) << id;
      EXPECT_NE(gaps.back().text.find("-" + std::to_string(firstKept - 1) + ","),
                std::string::npos)
          << gaps.back().text;
    }
  }
  EXPECT_EQ(readAll("a").front().text, "[START] kept");
  EXPECT_GT(droppedTotal, 0u);
  EXPECT_LE(newestDropped, oldestKept);
  EXPECT_EQ(quota.counters().linesDropped.load(), droppedTotal);
  EXPECT_EQ(quota.counters().unforwardedLinesDropped.load(), 0u);
}

TEST_F(StorageQuotaTest, LinesTheSinkHasNotAcknowledgedGoOnlyWhenNothingElseIsLeft) {
  addDeployment("a");
  addDeployment("b");
  for (int round = 0; round < 8; ++round) {
    appendLines("a", 2000, kStart + round * 4000 * 1000, 1000);
    appendLines("b", 2000, kStart + round * 4000 * 1000 + 500, 1000);
  }
  // The sink has "a" through lineNo 3000 and nothing of "b".
  StorageQuota::ForwardedThrough forwarded = [](const std::string& id) -> uint64_t {
    return id == "a" ? 3000 : 0;
  };
  const uint64_t max = *storage_->usedBytes() / 2;
  StorageQuota quota = makeQuota(max, forwarded);

  auto first = quota.runOnce();
  ASSERT_TRUE(first.isOk());
  EXPECT_GT(first->linesDropped, 0u);
  EXPECT_EQ(first->unforwardedLinesDropped, 0u);
  EXPECT_EQ(readAll("b").front().lineNo, 1u);  // "b" is older in part, but unforwarded

  trimUntilUnder(quota, max);
  EXPECT_GT(quota.counters().unforwardedLinesDropped.load(), 0u);
  bool saidSo = false;
  for (const std::string id : {"a", "b"}) {
    for (const LogLine& g : gapLines(readAll(id))) {
      if (g.text.find("not yet forwarded to the sink") != std::string::npos) saidSo = true;
    }
  }
  EXPECT_TRUE(saidSo);
}

}  // namespace
}  // namespace zc::collector
