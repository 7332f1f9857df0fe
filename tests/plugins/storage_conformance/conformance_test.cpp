// The storage conformance suite: the contract of zc/plugin/storage.h, run against every storage
// plugin loaded through the real loader (PluginRegistry::scanDirectory on the built plugins).
// Rows and logs here; retention, metrics, ids, deletion, concurrency, stats and the quota's drop
// in conformance_upkeep_test.cpp; the fixture in conformance_fixture.h.
#include <gtest/gtest.h>

#include <random>

#include "conformance_fixture.h"

namespace zc::testing {
namespace {

TEST_P(StorageConformanceTest, DeploymentsPutGetListDelete) {
  EXPECT_EQ(store().getDeployment("nope").status().code(), Status::Code::kNotFound);
  auto empty = store().listDeployments();
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->empty());

  Deployment a = fullDeployment("a");
  Deployment b;
  b.id = "b";  // every optional absent, every string empty
  ASSERT_TRUE(store().putDeployment(a).isOk());
  ASSERT_TRUE(store().putDeployment(b).isOk());
  auto got = store().getDeployment("a");
  ASSERT_TRUE(got.isOk()) << got.status().toString();
  EXPECT_EQ(*got, a);
  ASSERT_TRUE(store().getDeployment("b").isOk());
  EXPECT_EQ(*store().getDeployment("b"), b);

  a.status = DeploymentStatus::kStopped;
  a.hostPort.reset();
  ASSERT_TRUE(store().putDeployment(a).isOk());  // replace
  EXPECT_EQ(*store().getDeployment("a"), a);

  auto list = store().listDeployments();
  ASSERT_TRUE(list.isOk());
  ASSERT_EQ(list->size(), 2u);
  std::map<std::string, Deployment> byId;
  for (const auto& d : *list) byId[d.id] = d;
  EXPECT_EQ(byId["a"], a);
  EXPECT_EQ(byId["b"], b);

  ASSERT_TRUE(store().deleteDeployment("a").isOk());
  EXPECT_EQ(store().getDeployment("a").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store().listDeployments()->size(), 1u);
  EXPECT_TRUE(store().deleteDeployment("a").isOk());        // already gone
  EXPECT_TRUE(store().deleteDeployment("unknown").isOk());  // never existed
}

TEST_P(StorageConformanceTest, AppendsContiguousBatches) {
  EXPECT_EQ(*store().nextLineNo("d"), 1u);
  append(makeBatch("d", 1, 10, kStart));
  append(makeBatch("d", 11, 15, kStart));
  append(makeBatch("d", 26, 1, kStart));
  EXPECT_EQ(*store().nextLineNo("d"), 27u);
  auto lines = readAll("d");
  EXPECT_EQ(lineNos(lines), range(1, 26));
  EXPECT_EQ(lines[25], makeLine("d", 26, kStart));
  // Other deployments are independent.
  EXPECT_EQ(*store().nextLineNo("other"), 1u);
  EXPECT_TRUE(readAll("other").empty());
}

TEST_P(StorageConformanceTest, WrongFirstLineNoOrGapIsRefusedAndWritesNothing) {
  LogBatch wrongFirst = makeBatch("d", 2, 3, kStart);
  wrongFirst.cursor = LogCursor{"c", "must-not-be-stored"};
  EXPECT_EQ(store().appendLogs(wrongFirst).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(*store().nextLineNo("d"), 1u);
  EXPECT_TRUE(readAll("d").empty());
  EXPECT_EQ(store().getCursor("d", "c").status().code(), Status::Code::kNotFound);

  LogBatch gap = makeBatch("d", 1, 3, kStart);
  gap.lines[2].lineNo = 4;
  gap.cursor = LogCursor{"c", "must-not-be-stored"};
  EXPECT_EQ(store().appendLogs(gap).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(*store().nextLineNo("d"), 1u);
  EXPECT_TRUE(readAll("d").empty());
  EXPECT_EQ(store().getCursor("d", "c").status().code(), Status::Code::kNotFound);

  append(makeBatch("d", 1, 3, kStart));
  EXPECT_EQ(store().appendLogs(makeBatch("d", 3, 2, kStart)).code(),
            Status::Code::kFailedPrecondition);  // replay overlaps
  EXPECT_EQ(store().appendLogs(makeBatch("d", 5, 2, kStart)).code(),
            Status::Code::kFailedPrecondition);  // skips 4
  LogBatch duplicate = makeBatch("d", 4, 2, kStart);
  duplicate.lines[1].lineNo = 4;
  EXPECT_EQ(store().appendLogs(duplicate).code(), Status::Code::kFailedPrecondition);
  LogBatch foreign = makeBatch("d", 4, 2, kStart);
  foreign.lines[1].deploymentId = "e";
  EXPECT_EQ(store().appendLogs(foreign).code(), Status::Code::kInvalidArgument);
  LogBatch badStream = makeBatch("d", 4, 2, kStart);
  badStream.lines[1].stream = static_cast<LogStream>(9);
  EXPECT_EQ(store().appendLogs(badStream).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(*store().nextLineNo("d"), 4u);
  EXPECT_EQ(lineNos(readAll("d")), range(1, 3));
  EXPECT_TRUE(readAll("e").empty());
  append(makeBatch("d", 4, 2, kStart));
  EXPECT_EQ(lineNos(readAll("d")), range(1, 5));
}

TEST_P(StorageConformanceTest, CursorIsStoredWithTheBatch) {
  EXPECT_EQ(store().getCursor("d", "container-1").status().code(), Status::Code::kNotFound);
  LogBatch b = makeBatch("d", 1, 5, kStart);
  b.cursor = LogCursor{"container-1", std::string("opaque\0bytes\xff", 13)};
  append(b);
  EXPECT_EQ(*store().getCursor("d", "container-1"), std::string("opaque\0bytes\xff", 13));
  EXPECT_EQ(store().getCursor("d", "container-2").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store().getCursor("other", "container-1").status().code(), Status::Code::kNotFound);

  LogBatch b2 = makeBatch("d", 6, 1, kStart);
  b2.cursor = LogCursor{"container-2", "two"};
  append(b2);
  LogBatch b3 = makeBatch("d", 7, 1, kStart);
  b3.cursor = LogCursor{"container-1", "one-later"};
  append(b3);
  EXPECT_EQ(*store().getCursor("d", "container-1"), "one-later");
  EXPECT_EQ(*store().getCursor("d", "container-2"), "two");
}

TEST_P(StorageConformanceTest, EmptyBatchMovesOnlyTheCursor) {
  append(makeBatch("d", 1, 3, kStart));
  LogBatch onlyCursor;
  onlyCursor.deploymentId = "d";
  onlyCursor.cursor = LogCursor{"src", "moved"};
  append(onlyCursor);
  EXPECT_EQ(*store().getCursor("d", "src"), "moved");
  EXPECT_EQ(*store().nextLineNo("d"), 4u);
  EXPECT_EQ(lineNos(readAll("d")), range(1, 3));

  LogBatch nothing;
  nothing.deploymentId = "d";
  append(nothing);
  EXPECT_EQ(*store().nextLineNo("d"), 4u);

  // On a deployment that has no lines at all.
  LogBatch fresh;
  fresh.deploymentId = "fresh";
  fresh.cursor = LogCursor{"src", "first"};
  append(fresh);
  EXPECT_EQ(*store().getCursor("fresh", "src"), "first");
  EXPECT_EQ(*store().nextLineNo("fresh"), 1u);
}

TEST_P(StorageConformanceTest, PagingConcatenatesExactlyToTheStoredSequence) {
  std::mt19937 rng(42);
  std::vector<LogLine> written;
  uint64_t next = 1;
  while (next <= 1000) {
    size_t n = std::uniform_int_distribution<size_t>(1, 50)(rng);
    LogBatch b = makeBatch("d", next, n, kStart + static_cast<TimeNs>(next));
    for (auto& l : b.lines) l.stream = static_cast<LogStream>(1 + rng() % 3);
    append(b);
    written.insert(written.end(), b.lines.begin(), b.lines.end());
    next += n;
  }
  for (size_t limit : {size_t{1}, size_t{7}, size_t{100}, size_t{999}}) {
    std::vector<LogLine> got;
    uint64_t since = 0;
    while (true) {
      auto page = store().readLogs("d", since, limit);
      ASSERT_TRUE(page.isOk()) << page.status().toString();
      EXPECT_EQ(page->oldestLineNo, 1u);
      EXPECT_EQ(page->nextLineNo, next);
      ASSERT_LE(page->lines.size(), limit);
      if (page->lines.empty()) break;
      got.insert(got.end(), page->lines.begin(), page->lines.end());
      since = page->lines.back().lineNo;
    }
    EXPECT_EQ(got, written) << "limit " << limit;
  }
  auto mid = store().readLogs("d", 500, 3);
  ASSERT_TRUE(mid.isOk());
  EXPECT_EQ(lineNos(mid->lines), range(501, 503));
  auto none = store().readLogs("d", 0, 0);
  ASSERT_TRUE(none.isOk());
  EXPECT_TRUE(none->lines.empty());
  EXPECT_EQ(none->oldestLineNo, 1u);
  EXPECT_EQ(none->nextLineNo, next);
  auto past = store().readLogs("d", next + 10, 10);
  ASSERT_TRUE(past.isOk());
  EXPECT_TRUE(past->lines.empty());
  auto max = store().readLogs("d", std::numeric_limits<uint64_t>::max(), 10);
  ASSERT_TRUE(max.isOk());
  EXPECT_TRUE(max->lines.empty());
  auto unknown = store().readLogs("unknown", 0, 10);
  ASSERT_TRUE(unknown.isOk());
  EXPECT_TRUE(unknown->lines.empty());
  EXPECT_EQ(unknown->oldestLineNo, 1u);
  EXPECT_EQ(unknown->nextLineNo, 1u);
}

TEST_P(StorageConformanceTest, StreamsInterleaveAndRoundTripByteExact) {
  std::string mib(1 << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : mib) c = static_cast<char>(rng());
  std::vector<std::string> texts = {
      "",
      "plain text",
      "\xff\xfe\xfd invalid utf-8 \xc3\x28",
      std::string("nul\0inside\0", 11),
      "\x1b[31mred\x1b[0m\r\t\x07\x7f",
      "\xc3\xbc"
      "nic\xc3\xb6"
      "de",
      mib,
      std::string(200, '\n'),
  };
  LogBatch b;
  b.deploymentId = "d";
  const LogStream streams[] = {LogStream::kStdout, LogStream::kStderr, LogStream::kSystem};
  for (size_t i = 0; i < 24; ++i) {
    LogLine l;
    l.deploymentId = "d";
    l.lineNo = i + 1;
    l.stream = streams[(i * 7 / 3) % 3];
    l.ts = kStart + static_cast<TimeNs>(i) * 1'000'000'007;
    l.text = texts[i % texts.size()];
    l.truncated = i % 5 == 0;
    b.lines.push_back(l);
  }
  // Split in two batches so that the interleaving spans a batch boundary.
  LogBatch first = b, second = b;
  first.lines.resize(10);
  second.lines.erase(second.lines.begin(), second.lines.begin() + 10);
  append(first);
  append(second);
  auto got = readAll("d");
  ASSERT_EQ(got.size(), b.lines.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].lineNo, b.lines[i].lineNo);
    EXPECT_EQ(got[i].stream, b.lines[i].stream) << i;
    EXPECT_EQ(got[i].ts, b.lines[i].ts) << i;
    EXPECT_EQ(got[i].truncated, b.lines[i].truncated) << i;
    EXPECT_TRUE(got[i].text == b.lines[i].text) << "text of line " << i + 1 << " differs";
    EXPECT_EQ(got[i].deploymentId, "d");
  }
  EXPECT_EQ(*store().nextLineNo("d"), 25u);
}

#ifdef ZC_CONFORMANCE_POSTGRES
INSTANTIATE_TEST_SUITE_P(Plugins, StorageConformanceTest, ::testing::Values("postgres"),
#else
INSTANTIATE_TEST_SUITE_P(Plugins, StorageConformanceTest, ::testing::Values("memory", "rocksdb"),
#endif
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace zc::testing
