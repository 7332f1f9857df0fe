// The storage conformance suite, continued (see conformance_test.cpp): retention, metrics, ids,
// deletion, concurrency, stats and the quota's drop.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "conformance_fixture.h"

namespace zc::testing {
namespace {

TEST_P(StorageConformanceTest, ExpiredDataIsHiddenBeforeRetentionAndCountedByIt) {
  RetentionPolicy p;
  p.logsTtl = kHour;
  p.systemTtl = 2 * kHour;
  p.metricsTtl = kHour;
  store().setRetentionPolicy(p);
  const TimeNs t0 = kStart;
  append(makeBatch("d", 1, 10, t0, LogStream::kStdout));
  append(makeBatch("d", 11, 5, t0, LogStream::kSystem));
  append(makeBatch("d", 16, 5, t0 + 40 * kMinute, LogStream::kStderr));
  ASSERT_TRUE(store()
                  .appendMetrics({{"d", t0, 1, 2, 3},
                                  {"d", t0 + 10 * kMinute, 4, 5, 6},
                                  {"d", t0 + 50 * kMinute, 7, 8, 9}})
                  .isOk());

  clock_.set(t0 + 70 * kMinute);          // logs cutoff t0+10m, system cutoff t0-50m
  for (int pass = 0; pass < 2; ++pass) {  // before and after applyRetention: same view
    auto page = store().readLogs("d", 0, kAll);
    ASSERT_TRUE(page.isOk());
    EXPECT_EQ(lineNos(page->lines), range(11, 20));
    EXPECT_EQ(page->oldestLineNo, 11u);
    EXPECT_EQ(page->nextLineNo, 21u);
    auto metrics = store().readMetrics("d", t0 - kDay, t0 + kDay);
    ASSERT_TRUE(metrics.isOk());
    ASSERT_EQ(metrics->size(), 2u);  // the sample exactly at the cutoff is kept
    EXPECT_EQ((*metrics)[0].sampledAt, t0 + 10 * kMinute);
    if (pass == 0) {
      auto report = store().applyRetention();
      ASSERT_TRUE(report.isOk()) << report.status().toString();
      EXPECT_EQ(report->logLinesDeleted, 10u);
      EXPECT_EQ(report->systemLinesDeleted, 0u);
      EXPECT_EQ(report->metricSamplesDeleted, 1u);
    }
  }
  auto again = store().applyRetention();
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(again->logLinesDeleted + again->systemLinesDeleted + again->metricSamplesDeleted, 0u);

  clock_.set(t0 + 130 * kMinute);  // logs cutoff t0+70m, system cutoff t0+10m
  auto page = store().readLogs("d", 0, kAll);
  ASSERT_TRUE(page.isOk());
  EXPECT_TRUE(page->lines.empty());
  EXPECT_EQ(page->oldestLineNo, 21u);
  EXPECT_EQ(page->nextLineNo, 21u);
  EXPECT_TRUE(store().readMetrics("d", t0 - kDay, t0 + kDay)->empty());
  auto report = store().applyRetention();
  ASSERT_TRUE(report.isOk());
  EXPECT_EQ(report->logLinesDeleted, 5u);
  EXPECT_EQ(report->systemLinesDeleted, 5u);
  EXPECT_EQ(report->metricSamplesDeleted, 2u);
  EXPECT_EQ(*store().nextLineNo("d"), 21u);  // numbering continues after everything expired
  append(makeBatch("d", 21, 2, clock_.now()));
  EXPECT_EQ(lineNos(readAll("d")), range(21, 22));
}

TEST_P(StorageConformanceTest, RetentionStopsAtTheFirstLiveLineAndReadsHideStragglers) {
  RetentionPolicy p;
  p.logsTtl = kHour;
  store().setRetentionPolicy(p);
  LogBatch b = makeBatch("d", 1, 4, kStart);
  b.lines[1].ts = kStart + 2 * kHour;
  b.lines[3].ts = kStart + 2 * kHour;  // line 3 (ts kStart) is a straggler behind line 2
  append(b);
  clock_.set(kStart + 90 * kMinute);
  EXPECT_EQ(lineNos(readAll("d")), (std::vector<uint64_t>{2, 4}));
  auto report = store().applyRetention();
  ASSERT_TRUE(report.isOk());
  EXPECT_EQ(report->logLinesDeleted, 1u);
  auto page = store().readLogs("d", 0, kAll);
  EXPECT_EQ(lineNos(page->lines), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(page->oldestLineNo, 2u);
}

TEST_P(StorageConformanceTest, SystemLinesOutliveStdoutWithDefaultTtls) {
  append(makeBatch("d", 1, 3, kStart, LogStream::kStdout));
  append(makeBatch("d", 4, 3, kStart, LogStream::kSystem));
  append(makeBatch("d", 7, 3, kStart, LogStream::kStderr));
  ASSERT_TRUE(store().appendMetrics({{"d", kStart, 1, 1, 1}}).isOk());
  clock_.advance(6 * kDay);
  EXPECT_EQ(lineNos(readAll("d")), range(1, 9));
  EXPECT_TRUE(store().readMetrics("d", kStart, kStart)->empty());  // metrics: 3 days
  clock_.advance(2 * kDay);  // 8 days: stdout and stderr (7 days) expired, system (30) not
  EXPECT_EQ(lineNos(readAll("d")), range(4, 6));
  auto report = store().applyRetention();
  ASSERT_TRUE(report.isOk());
  EXPECT_EQ(report->logLinesDeleted, 6u);
  EXPECT_EQ(report->systemLinesDeleted, 0u);
  EXPECT_EQ(report->metricSamplesDeleted, 1u);
  EXPECT_EQ(lineNos(readAll("d")), range(4, 6));
  clock_.advance(23 * kDay);  // 31 days
  EXPECT_TRUE(readAll("d").empty());
  report = store().applyRetention();
  ASSERT_TRUE(report.isOk());
  EXPECT_EQ(report->systemLinesDeleted, 3u);
  EXPECT_EQ(report->logLinesDeleted, 0u);
}

TEST_P(StorageConformanceTest, ZeroTtlKeepsForever) {
  store().setRetentionPolicy(RetentionPolicy{0, 0, 0});
  append(makeBatch("d", 1, 3, kStart, LogStream::kStdout));
  append(makeBatch("d", 4, 3, kStart, LogStream::kSystem));
  ASSERT_TRUE(store().appendMetrics({{"d", kStart, 1, 1, 1}}).isOk());
  clock_.advance(1000 * kDay);
  auto report = store().applyRetention();
  ASSERT_TRUE(report.isOk());
  EXPECT_EQ(report->logLinesDeleted + report->systemLinesDeleted + report->metricSamplesDeleted,
            0u);
  EXPECT_EQ(lineNos(readAll("d")), range(1, 6));
  EXPECT_EQ(store().readMetrics("d", kStart, kStart)->size(), 1u);
}

TEST_P(StorageConformanceTest, MetricsReadAClosedRangeInOrder) {
  std::vector<MetricSample> samples;
  for (int i : {5, 1, 3, 2, 4}) {
    samples.push_back({"d", kStart + i * kMinute, i * 10.0, i * 100.5, 2048});
    samples.push_back({"e", kStart + i * kMinute, -1, -1, -1});
  }
  ASSERT_TRUE(store().appendMetrics(samples).isOk());
  auto got = store().readMetrics("d", kStart + 2 * kMinute, kStart + 4 * kMinute);
  ASSERT_TRUE(got.isOk());
  ASSERT_EQ(got->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*got)[i], (MetricSample{"d", kStart + (i + 2) * kMinute, (i + 2) * 10.0,
                                       (i + 2) * 100.5, 2048}));
  }
  EXPECT_EQ(store().readMetrics("d", kStart, kStart + 10 * kMinute)->size(), 5u);
  EXPECT_TRUE(store().readMetrics("d", kStart + 6 * kMinute, kStart + 9 * kMinute)->empty());
  EXPECT_TRUE(store().readMetrics("d", kStart + 4 * kMinute, kStart + 2 * kMinute)->empty());
  EXPECT_TRUE(store().readMetrics("unknown", kStart, kStart + kDay)->empty());
  // A sample re-sent for the same time replaces the stored one.
  ASSERT_TRUE(store().appendMetrics({{"d", kStart + kMinute, 99, 99, 99}}).isOk());
  auto replaced = store().readMetrics("d", kStart + kMinute, kStart + kMinute);
  ASSERT_EQ(replaced->size(), 1u);
  EXPECT_EQ((*replaced)[0].cpuPct, 99);
}

TEST_P(StorageConformanceTest, InvalidIdsAreRejectedEverywhere) {
  const std::vector<std::string> bad = {"",         std::string("a\0b", 3),
                                        "a/b",      "a b",
                                        "../etc",   std::string(kMaxDeploymentIdLength + 1, 'a'),
                                        "\xc3\xbc", "d\n"};
  auto isInvalid = [](const Status& s) { return s.code() == Status::Code::kInvalidArgument; };
  for (const auto& id : bad) {
    SCOPED_TRACE("id of " + std::to_string(id.size()) + " bytes");
    Deployment d;
    d.id = id;
    EXPECT_TRUE(isInvalid(store().putDeployment(d)));
    EXPECT_TRUE(isInvalid(store().getDeployment(id).status()));
    EXPECT_TRUE(isInvalid(store().deleteDeployment(id)));
    EXPECT_TRUE(isInvalid(store().appendLogs(makeBatch(id, 1, 2, kStart))));
    LogBatch cursorOnly;
    cursorOnly.deploymentId = id;
    cursorOnly.cursor = LogCursor{"k", "v"};
    EXPECT_TRUE(isInvalid(store().appendLogs(cursorOnly)));
    EXPECT_TRUE(isInvalid(store().nextLineNo(id).status()));
    EXPECT_TRUE(isInvalid(store().getCursor(id, "k").status()));
    EXPECT_TRUE(isInvalid(store().readLogs(id, 0, 10).status()));
    EXPECT_TRUE(isInvalid(store().appendMetrics({{"ok", kStart, 1, 1, 1}, {id, kStart, 1, 1, 1}})));
    EXPECT_TRUE(isInvalid(store().readMetrics(id, kStart, kStart).status()));
  }
  // Nothing of a rejected call was written, not even its valid parts.
  EXPECT_TRUE(store().readMetrics("ok", kStart, kStart)->empty());
  EXPECT_TRUE(store().listDeployments()->empty());
  EXPECT_TRUE(
      store().getDeployment(std::string(kMaxDeploymentIdLength, 'a')).status().isNotFound());
}

TEST_P(StorageConformanceTest, DeleteDeploymentRemovesLinesSamplesAndCursors) {
  ASSERT_TRUE(store().putDeployment(fullDeployment("d")).isOk());
  ASSERT_TRUE(store().putDeployment(fullDeployment("d2")).isOk());
  LogBatch b = makeBatch("d", 1, 5, kStart);
  b.lines[2].stream = LogStream::kSystem;
  b.cursor = LogCursor{"src", "5"};
  append(b);
  append(makeBatch("d2", 1, 2, kStart));
  ASSERT_TRUE(store().appendMetrics({{"d", kStart, 1, 1, 1}, {"d2", kStart, 2, 2, 2}}).isOk());

  ASSERT_TRUE(store().deleteDeployment("d").isOk());
  EXPECT_TRUE(store().getDeployment("d").status().isNotFound());
  EXPECT_EQ(*store().nextLineNo("d"), 1u);
  EXPECT_TRUE(readAll("d").empty());
  EXPECT_TRUE(store().getCursor("d", "src").status().isNotFound());
  EXPECT_TRUE(store().readMetrics("d", kStart, kStart)->empty());
  // The neighbour is untouched.
  EXPECT_EQ(lineNos(readAll("d2")), range(1, 2));
  EXPECT_EQ(store().readMetrics("d2", kStart, kStart)->size(), 1u);
  EXPECT_TRUE(store().getDeployment("d2").isOk());
  // The id can start over.
  append(makeBatch("d", 1, 1, kStart));
  EXPECT_EQ(lineNos(readAll("d")), range(1, 1));
}

TEST_P(StorageConformanceTest, ConcurrentAppendersOnEightDeployments) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 150;
  std::atomic<bool> failed{false};
  std::atomic<bool> done{false};
  std::vector<uint64_t> totals(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::string id = "dep-" + std::to_string(t);
      uint64_t next = 1;
      for (int i = 0; i < kBatches; ++i) {
        size_t n = std::uniform_int_distribution<size_t>(1, 100)(rng);
        LogBatch b = makeBatch(id, next, n, kStart, static_cast<LogStream>(1 + i % 3));
        b.cursor = LogCursor{"src", std::to_string(next + n - 1)};
        if (!store().appendLogs(b).isOk()) failed = true;
        next += n;
      }
      totals[t] = next - 1;
    });
  }
  // Readers and retention run meanwhile; every page they see must be contiguous.
  std::thread reader([&] {
    int round = 0;
    while (!done) {
      std::string id = "dep-" + std::to_string(round++ % kThreads);
      auto page = store().readLogs(id, 0, kAll);
      if (!page.isOk()) failed = true;
      for (size_t i = 0; page.isOk() && i < page->lines.size(); ++i) {
        if (page->lines[i].lineNo != i + 1) failed = true;
      }
      if (page.isOk() && page->nextLineNo != page->lines.size() + 1) failed = true;
      if (round % 16 == 0 && !store().applyRetention().isOk()) failed = true;
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  EXPECT_FALSE(failed);
  for (int t = 0; t < kThreads; ++t) {
    std::string id = "dep-" + std::to_string(t);
    EXPECT_EQ(*store().nextLineNo(id), totals[t] + 1);
    EXPECT_EQ(lineNos(readAll(id)), range(1, totals[t]));
    EXPECT_EQ(*store().getCursor(id, "src"), std::to_string(totals[t]));
  }
}

TEST_P(StorageConformanceTest, RacingAppendersOfOneDeploymentNeverDuplicateALineNo) {
  constexpr int kThreads = 4;
  std::atomic<int> committed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto next = store().nextLineNo("d");
        if (!next.isOk()) continue;
        LogBatch b = makeBatch("d", *next, 1 + t, kStart);
        Status s = store().appendLogs(b);
        if (s.isOk())
          committed += 1 + t;
        else if (s.code() != Status::Code::kFailedPrecondition)
          ADD_FAILURE() << s.toString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(lineNos(readAll("d")), range(1, static_cast<uint64_t>(committed.load())));
}

TEST_P(StorageConformanceTest, StatsReportHealthyAndSize) {
  auto before = store().stats();
  EXPECT_TRUE(before.healthy);
  EXPECT_TRUE(before.detail.empty());
  LogBatch b = makeBatch("d", 1, 1000, kStart);
  for (auto& l : b.lines) l.text.assign(200, 'x');
  append(b);
  auto after = store().stats();
  EXPECT_TRUE(after.healthy);
  EXPECT_GT(after.bytesOnDisk, 0u);
  EXPECT_GE(after.bytesOnDisk, before.bytesOnDisk);
}

TEST_P(StorageConformanceTest, DroppingTheOldestLinesKeepsSystemLinesAndTheNumbering) {
  // 1..4 stdout, 5 system, 6..9 stderr, 10 system.
  append(makeBatch("q", 1, 4, kStart));
  append(makeBatch("q", 5, 1, kStart, LogStream::kSystem));
  append(makeBatch("q", 6, 4, kStart, LogStream::kStderr));
  append(makeBatch("q", 10, 1, kStart, LogStream::kSystem));
  auto before = store().usedBytes();
  ASSERT_TRUE(before.isOk()) << before.status().toString();
  EXPECT_GT(*before, 0u);

  ASSERT_TRUE(store().dropLogLinesThrough("q", 7).isOk());
  EXPECT_EQ(lineNos(readAll("q")), (std::vector<uint64_t>{5, 8, 9, 10}));
  auto next = store().nextLineNo("q");
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(*next, 11u);
  append(makeBatch("q", 11, 2, kStart));  // the numbering goes on
  EXPECT_EQ(lineNos(readAll("q")), (std::vector<uint64_t>{5, 8, 9, 10, 11, 12}));

  EXPECT_TRUE(store().dropLogLinesThrough("q", 0).isOk());       // nothing
  EXPECT_TRUE(store().dropLogLinesThrough("unknown", 5).isOk());  // unknown id
  EXPECT_EQ(store().dropLogLinesThrough("bad id!", 5).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace zc::testing
