// process_stats: the /proc/<pid>/stat and /proc/stat parsers behind the process_* series, and
// the figures read for this very process.
#include "process_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

using zc::exporters::parseBootTime;
using zc::exporters::parseProcStat;
using zc::exporters::readProcessStats;

// A real line of a process whose command name holds spaces and parentheses.
constexpr const char* kStat =
    "4242 (zynd (x) y) S 1 4242 4242 0 -1 4194560 2951 0 0 0 150 35 0 0 20 0 23 0 812345 "
    "512000000 3100 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessStatsTest, ParsesTheFieldsAfterTheLastParenthesis) {
  auto s = parseProcStat(kStat);
  ASSERT_TRUE(s.isOk()) << s.status().toString();
  EXPECT_EQ(s->utimeTicks, 150u);
  EXPECT_EQ(s->stimeTicks, 35u);
  EXPECT_EQ(s->threads, 23);
  EXPECT_EQ(s->startTicks, 812345u);
  EXPECT_EQ(s->rssPages, 3100);
}

TEST(ProcessStatsTest, RefusesWhatIsNotAStatLine) {
  EXPECT_FALSE(parseProcStat("").isOk());
  EXPECT_FALSE(parseProcStat("4242 zynd S 1 2 3").isOk());        // no parentheses
  EXPECT_FALSE(parseProcStat("4242 (zynd) S 1 2 3 4 5\n").isOk());  // too few fields
  std::string bad = kStat;
  bad.replace(bad.find(" 150 "), 5, " 1x0 ");
  EXPECT_FALSE(parseProcStat(bad).isOk());
}

TEST(ProcessStatsTest, FindsTheBootTime) {
  auto t = parseBootTime("cpu  1 2 3\nintr 5\nbtime 1764460800\nprocesses 9\n");
  ASSERT_TRUE(t.isOk());
  EXPECT_EQ(*t, 1764460800);
  EXPECT_FALSE(parseBootTime("cpu 1 2 3\n").isOk());
  EXPECT_FALSE(parseBootTime("btime soon\n").isOk());
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  auto before = readProcessStats();
  ASSERT_TRUE(before.isOk()) << before.status().toString();
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::thread t([] { std::this_thread::sleep_for(std::chrono::milliseconds(200)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto during = readProcessStats();
  t.join();
  ::close(fd);
  ASSERT_TRUE(during.isOk());
  EXPECT_EQ(during->openFds, before->openFds + 1);
  EXPECT_EQ(during->threads, before->threads + 1);
  EXPECT_GT(before->residentBytes, 0);
  EXPECT_GE(before->maxFds, before->openFds);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(before->startTimeSeconds, now + 1);
  EXPECT_GT(before->startTimeSeconds, now - 3600);
  EXPECT_GE(during->cpuSeconds, before->cpuSeconds);
}

}  // namespace
