// libpod stats and the cgroup readings: CPU % from two samples, memory without the inactive
// file cache, OOM kills, and paths that must not leave the cgroup tree.
#include "podman_stats.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace zc::podman {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& json) {
  Poco::JSON::Parser p;
  return p.parse(json).extract<Poco::JSON::Object::Ptr>();
}

TEST(PodmanStatsTest, ParsesTheOneSample) {
  auto r = parseLibpodStats(parse(
      R"({"Error":null,"Stats":[{"CPUNano":99358950,"SystemNano":1796026332116773385,)"
      R"("MemUsage":495616,"MemLimit":25276026880,"CPU":0.5}]})"));
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r.value().cpuNano, 99358950u);
  EXPECT_EQ(r.value().systemNano, 1796026332116773385u);
  EXPECT_EQ(r.value().memUsage, 495616);
  EXPECT_EQ(r.value().memLimit, 25276026880.0);
}

TEST(PodmanStatsTest, NoSampleIsNotFoundAndGarbageIsCorruption) {
  auto none = parseLibpodStats(parse(R"({"Error":"no such container","Stats":[]})"));
  EXPECT_TRUE(none.status().isNotFound());
  auto bad = parseLibpodStats(parse(R"({"Stats":[1]})"));
  EXPECT_FALSE(bad.isOk());
  auto missing = parseLibpodStats(parse(R"({"Stats":[{}]})"));
  ASSERT_TRUE(missing.isOk());  // fields absent read as 0: CPU % 0, not a crash
  EXPECT_EQ(missing.value().cpuNano, 0u);
}

TEST(PodmanStatsTest, CpuPercentIsOneCoreAtHundred) {
  LibpodStats a{1'000'000'000, 10'000'000'000, 0, 0};
  LibpodStats b{1'500'000'000, 11'000'000'000, 0, 0};  // 0.5 s of CPU in 1 s
  EXPECT_DOUBLE_EQ(cpuPercent(a, b), 50.0);
  EXPECT_EQ(cpuPercent(b, a), 0);  // a restart (counter went back): 0, not negative
  EXPECT_EQ(cpuPercent(a, a), 0);
}

TEST(PodmanStatsTest, KeyedValues) {
  std::string stat = "cache 100\ninactive_file 7\ntotal_inactive_file 42\noom_kill 3\n";
  EXPECT_EQ(findKeyedValue(stat, "total_inactive_file"), 42u);
  EXPECT_EQ(findKeyedValue(stat, "inactive_file"), 7u);
  EXPECT_EQ(findKeyedValue(stat, "oom_kill"), 3u);
  EXPECT_FALSE(findKeyedValue(stat, "cach"));
  EXPECT_FALSE(findKeyedValue("x notanumber\n", "x"));
}

TEST(PodmanStatsTest, CgroupPathsMustStayInTheTree) {
  EXPECT_TRUE(isSafeCgroupPath("/libpod_parent/libpod-abc"));
  EXPECT_FALSE(isSafeCgroupPath("libpod_parent"));
  EXPECT_FALSE(isSafeCgroupPath("/libpod_parent/../../etc"));
  EXPECT_FALSE(isSafeCgroupPath("/.."));
  EXPECT_FALSE(isSafeCgroupPath(""));
}

TEST(PodmanStatsTest, ReadsV1MemoryStatAndOomControl) {
  zc::testing::TempDir root;
  std::string dir = root.path() + "/memory/libpod_parent/libpod-abc";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/memory.stat") << "cache 9\ninactive_file 1\ntotal_inactive_file 4096\n";
  std::ofstream(dir + "/memory.oom_control") << "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n";
  auto found = memoryCgroupDir(root.path(), "/libpod_parent/libpod-abc");
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, dir);
  EXPECT_EQ(readInactiveFile(dir), 4096u);
  EXPECT_EQ(readOomKills(dir), 1u);
  EXPECT_FALSE(memoryCgroupDir(root.path(), "/libpod_parent/gone"));  // exited: unknown
  EXPECT_FALSE(memoryCgroupDir(root.path(), "/../memory/libpod_parent/libpod-abc"));
}

TEST(PodmanStatsTest, ReadsV2MemoryStatAndEvents) {
  zc::testing::TempDir root;
  std::string dir = root.path() + "/machine/libpod-abc";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/memory.stat") << "anon 5\ninactive_file 2048\n";
  std::ofstream(dir + "/memory.events") << "low 0\nhigh 0\nmax 2\noom 1\noom_kill 2\n";
  auto found = memoryCgroupDir(root.path(), "/machine/libpod-abc");
  ASSERT_TRUE(found);
  EXPECT_EQ(readInactiveFile(*found), 2048u);
  EXPECT_EQ(readOomKills(*found), 2u);
}

// Each run of a container has its own cgroup folder (a new inode), counting from 0.
TEST(OomRunTrackerTest, AKillBelongsToTheRunWhoseCgroupCountedIt) {
  OomRunTracker t;
  t.reading({100, 0});                  // run 1, sampled
  t.reading({100, 1});                  // a process of run 1 OOM-killed
  EXPECT_TRUE(t.killedThisRun());
  EXPECT_TRUE(t.runEnded(1000));        // run 1 dies: an oom event before its die
  EXPECT_TRUE(t.lastRunKilled());
  EXPECT_FALSE(t.killedThisRun());
  EXPECT_FALSE(t.runEnded(1000));       // the same die again: nothing new
  EXPECT_TRUE(t.lastRunKilled());
  // Run 2 crashes (exit 1) before any sample, its cgroup already gone: not an OOM kill.
  EXPECT_FALSE(t.runEnded(2000));
  EXPECT_FALSE(t.lastRunKilled());
  // Run 3's new cgroup reads 1 at its first reading: killed in run 3, though the count equals
  // an earlier run's.
  t.reading({300, 1});
  EXPECT_TRUE(t.runEnded(3000));
  EXPECT_TRUE(t.lastRunKilled());
  // Run 4: the same counter read again in the same folder is not a new kill.
  t.reading({400, 2});
  t.reading({400, 2});
  EXPECT_TRUE(t.runEnded(4000));  // 2 > 0 in its own folder: killed in run 4
  t.reading({500, 0});
  t.reading({500, 0});
  EXPECT_FALSE(t.runEnded(5000));
  EXPECT_FALSE(t.lastRunKilled());
}

TEST(OomRunTrackerTest, AReadingOfAFolderThatIsGoneIsNone) {
  zc::testing::TempDir root;
  EXPECT_FALSE(readOomReading(root.path() + "/gone"));
  std::string dir = root.path() + "/libpod-abc";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/memory.oom_control") << "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
  auto r = readOomReading(dir);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kills, 3u);
  EXPECT_NE(r->cgroupIno, 0u);
}

}  // namespace
}  // namespace zc::podman
