// Logs pages are bounded in bytes, not only in lines, through the whole daemon and the real
// engine: lines of 1 MiB of control bytes (each six times larger once escaped in JSON) read by
// four concurrent limit=5000 pages keep the daemon's memory growth small, every page stays
// within --max-page-bytes (or is a single line), and nextSince walks the log without a gap.
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

// The resident set of `pid` in KiB, 0 when unknown.
long rssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

struct Page {
  size_t bytes = 0;
  std::vector<uint64_t> lineNos;
  uint64_t nextSince = 0;
};

Page readPage(uint16_t port, const std::string& id, uint64_t since) {
  std::string body;
  int status = httpGet(port, "/api/deployments/" + id + "/logs?since=" + std::to_string(since) +
                                 "&limit=5000",
                       &body);
  EXPECT_EQ(status, 200) << body.substr(0, 200);
  Page p;
  p.bytes = body.size();
  if (status != 200) return p;
  Poco::JSON::Parser parser;
  auto obj = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  auto lines = obj->getArray("lines");
  for (size_t i = 0; i < lines->size(); ++i) {
    p.lineNos.push_back(
        lines->getObject(static_cast<unsigned>(i))->getValue<uint64_t>("lineNo"));
  }
  p.nextSince = obj->getValue<uint64_t>("nextSince");
  return p;
}

TEST(PageBoundsTest, PagesOfMegabyteControlByteLinesStayWithinTheirBytesAndMemory) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  TempDir dir;
  const std::string data = dir.path() + "/data";
  constexpr size_t kMaxPage = 4 << 20;
  Collector collector(data);
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  std::string id = uniqueId("bigpage");
  // 12 lines of 1 MiB - 1 bytes of \x01 (a control byte: "\u0001" in JSON), then 300 short ones.
  TestContainer c(id,
                  "i=0; while [ $i -lt 12 ]; do head -c 1048575 /dev/zero | tr '\\000' '\\001'; "
                  "echo; i=$((i+1)); done; i=0; while [ $i -lt 300 ]; do echo short $i; "
                  "i=$((i+1)); done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ASSERT_TRUE(collector.waitDrained(60s)) << collector.process().err();

  const pid_t pid = collector.process().pid();
  const long before = rssKib(pid);
  ASSERT_GT(before, 0);
  std::atomic<bool> done{false};
  std::atomic<long> peak{before};
  std::thread sampler([&] {
    while (!done) {
      long r = rssKib(pid);
      if (r > peak) peak = r;
      std::this_thread::sleep_for(2ms);
    }
  });
  std::vector<std::thread> readers;
  std::vector<std::vector<Page>> walks(4);
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&, r] {
      uint64_t since = 0;
      for (int n = 0; n < 100; ++n) {  // bounded: 12 big lines + 300 short ones
        Page p = readPage(collector.port(), id, since);
        walks[r].push_back(p);
        if (p.lineNos.empty()) break;
        since = p.nextSince;
      }
    });
  }
  for (auto& t : readers) t.join();
  done = true;
  sampler.join();

  for (const auto& walk : walks) {
    std::vector<uint64_t> seen;
    for (const Page& p : walk) {
      if (p.lineNos.size() > 1) {
        EXPECT_LE(p.bytes, kMaxPage);
      }
      if (!p.lineNos.empty()) {
        EXPECT_EQ(p.nextSince, p.lineNos.back());
      }
      seen.insert(seen.end(), p.lineNos.begin(), p.lineNos.end());
    }
    ASSERT_FALSE(seen.empty());
    for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1) << "gap or repeat";
    EXPECT_GE(seen.size(), 312u);
  }
  std::printf("4 concurrent walks of limit=5000 pages: RSS %ld KiB -> peak %ld KiB\n", before,
              peak.load());
#ifndef __SANITIZE_ADDRESS__
  // (AddressSanitizer's allocator keeps freed blocks in quarantine: memory is not measured there.)
  EXPECT_LT(peak - before, 64 * 1024) << "RSS " << before << " KiB -> peak " << peak << " KiB";
#endif
  EXPECT_EQ(collector.stop(), 0);
}

}  // namespace
}  // namespace zc::testing
