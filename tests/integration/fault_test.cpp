// Faults the collector must ride out without losing a line the engine still holds.
//   - Disk full: the data folder is a small tmpfs that fills during a flood. The collector
//     reports degraded in /healthz, keeps serving, does not crash-loop, and after space is freed
//     catches up: every line stored once, lineNos contiguous.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

// A tmpfs of `megabytes` mounted at `path` for the life of the object (root only).
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& path, int megabytes) : path_(path) {
    std::filesystem::create_directories(path);
    mounted_ = runCommand("mount -t tmpfs -o size=" + std::to_string(megabytes) + "m zc-test " +
                          path + " 2>&1") == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) runCommand("umount -l " + path_ + " 2>&1");
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST(FaultTest, DiskFullDegradesThenCatchesUpWithNoLoss) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir dir;
  SmallTmpfs disk(dir.path() + "/small", 48);
  ASSERT_TRUE(disk.mounted());
  std::string filler = dir.path() + "/small/filler";
  ASSERT_EQ(runCommand("head -c 40000000 /dev/zero > " + filler), 0);

  std::string data = dir.path() + "/small/data";
  Collector collector(data, {"--keep-crashed", "true"});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  constexpr int kLines = 200000;
  std::string id = uniqueId("diskfull");
  TestContainer c(id, "i=0; while [ $i -lt " + std::to_string(kLines) +
                          " ]; do echo \"line $i ................................................"
                          "..............................\"; i=$((i+1)); done");
  ASSERT_TRUE(c.ok());

  // Degraded, but alive and answering.
  std::string body;
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/healthz", &body) == 200 &&
           body.find("\"status\":\"degraded\"") != std::string::npos;
  }, 120s, 100ms)) << body << collector.process().err();
  EXPECT_NE(body.find("\"ok\":false"), std::string::npos) << body;
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(httpGet(collector.port(), "/healthz"), 200);
  EXPECT_EQ(collector.process().wait(0ms), -1) << "the collector exited";

  // Space comes back: it catches up by itself.
  std::filesystem::remove(filler);
  ASSERT_TRUE(c.waitExited(120s));
  ASSERT_TRUE(collector.waitDrained(180s)) << collector.process().err();
  ASSERT_TRUE(waitFor([&] {
    return httpGet(collector.port(), "/healthz", &body) == 200 &&
           body.find("\"status\":\"ok\"") != std::string::npos;
  }, 30s)) << body;
  ASSERT_EQ(collector.stop(), 0);

  auto all = readStoredLines(data, id);
  EXPECT_EQ(checkContiguous(all), "");
  auto lines = containerLines(all);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) {
    ASSERT_EQ(lines[i].text.rfind("line " + std::to_string(i) + " ", 0), 0u) << lines[i].text;
  }
}

}  // namespace
}  // namespace zc::testing
