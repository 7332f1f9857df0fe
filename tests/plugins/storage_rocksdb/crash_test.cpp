// Crash consistency of the rocksdb plugin: a writer process (crash_writer.cpp) is SIGKILLed at
// random moments, over and over on one data_dir; after every kill the store must hold every
// acknowledged batch, contiguous lineNos 1..next-1, and the cursor of the last stored batch.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>

#include "storage_test_util.h"
#include "test_support.h"

extern char** environ;

namespace zc::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kRounds = 50;

// A running writer; killed and reaped on destruction if still alive.
class Writer {
 public:
  Writer(const std::string& dataDir, unsigned seed) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    std::string seedStr = std::to_string(seed);
    std::string path = ZC_CRASH_WRITER;
    std::string pluginDir = ZC_PLUGIN_DIR;
    char* argv[] = {path.data(), pluginDir.data(), const_cast<char*>(dataDir.c_str()),
                    seedStr.data(), nullptr};
    int rc = ::posix_spawn(&pid_, path.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    if (rc != 0) {
      pid_ = -1;
      ::close(fds[0]);
      return;
    }
    fd_ = fds[0];
  }
  ~Writer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  bool started() const { return pid_ > 0 && fd_ >= 0; }

  // Reads acknowledgements until `deadline`, or until the first one when `untilFirst`. Returns
  // false at EOF (the writer died on its own).
  bool readAcks(Clock::time_point deadline, bool untilFirst) {
    while (true) {
      if (untilFirst && acks_ > 0) return true;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return true;
      pollfd p{fd_, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno != EINTR) return false;
      if (n <= 0) continue;
      if (!readSome()) return false;
    }
  }

  // SIGKILLs the writer, drains the acknowledgements it wrote before dying, reaps it. Returns
  // the wait status.
  int killAndDrain() {
    ::kill(pid_, SIGKILL);
    while (readSome()) {
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return st;
  }

  uint64_t maxAck() const { return maxAck_; }
  uint64_t acks() const { return acks_; }

 private:
  // One read(); parses complete lines. False at EOF or error.
  bool readSome() {
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    size_t pos;
    while ((pos = pending_.find('\n')) != std::string::npos) {
      uint64_t v = std::stoull(pending_.substr(0, pos));
      EXPECT_GT(v, maxAck_) << "acknowledgements must increase";
      maxAck_ = v;
      ++acks_;
      pending_.erase(0, pos + 1);
    }
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;
  uint64_t maxAck_ = 0;
  uint64_t acks_ = 0;
};

class RocksDbCrashTest : public ::testing::Test {
 protected:
  // Opens the store, checks it from lineNo `checkFrom` on, closes it. Returns next lineNo.
  uint64_t verify(uint64_t checkFrom, uint64_t minAcked) {
    ManualClock clock(1'800'000'000 * kNanosPerSecond);
    RecordingLogger logger;
    auto store = createStorage(registry_, "rocksdb", {{"data_dir", dataDir_}}, &logger, &clock);
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    if (!store.isOk()) return 0;
    Status s = (*store)->open();
    EXPECT_TRUE(s.isOk()) << s.toString();
    if (!s.isOk()) return 0;
    auto next = (*store)->nextLineNo("crash");
    EXPECT_TRUE(next.isOk());
    uint64_t stored = next.valueOr(1) - 1;
    EXPECT_GE(stored, minAcked) << "an acknowledged batch is missing";
    uint64_t expect = checkFrom;
    uint64_t since = checkFrom - 1;
    while (true) {
      auto page = (*store)->readLogs("crash", since, 50'000);
      EXPECT_TRUE(page.isOk()) << page.status().toString();
      if (!page.isOk() || page->lines.empty()) break;
      EXPECT_EQ(page->oldestLineNo, 1u);
      EXPECT_EQ(page->nextLineNo, stored + 1);
      for (const auto& l : page->lines) {
        if (l.lineNo != expect || l.text != "line " + std::to_string(expect)) {
          ADD_FAILURE() << "expected line " << expect << ", got " << l.lineNo << " '" << l.text
                        << "'";
          (void)(*store)->close();
          return 0;
        }
        ++expect;
      }
      since = page->lines.back().lineNo;
    }
    EXPECT_EQ(expect, stored + 1) << "lines end before next lineNo";
    if (stored > 0) {
      auto cursor = (*store)->getCursor("crash", "src");
      EXPECT_TRUE(cursor.isOk()) << cursor.status().toString();
      EXPECT_EQ(cursor.valueOr(""), std::to_string(stored))
          << "the cursor must be the one of the last stored batch";
    }
    s = (*store)->close();
    EXPECT_TRUE(s.isOk()) << s.toString();
    return stored + 1;
  }

  void SetUp() override {
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    dataDir_ = dir_.path() + "/db";
  }

  TempDir dir_;
  std::string dataDir_;
  host::PluginRegistry registry_;
};

TEST_F(RocksDbCrashTest, EveryAcknowledgedBatchSurvivesSigkill) {
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  uint64_t verifiedNext = 1;
  uint64_t totalAcks = 0;
  const auto started = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    uint64_t ackedBefore = verifiedNext - 1;
    uint64_t maxAck = 0;
    {
      Writer w(dataDir_, static_cast<unsigned>(rng()));
      ASSERT_TRUE(w.started()) << "cannot spawn " << ZC_CRASH_WRITER;
      ASSERT_TRUE(w.readAcks(Clock::now() + milliseconds(30'000), true))
          << "writer exited before its first acknowledgement";
      ASSERT_GT(w.acks(), 0u) << "no acknowledgement within 30 s";
      int delayMs = std::uniform_int_distribution<int>(5, 80)(rng);
      ASSERT_TRUE(w.readAcks(Clock::now() + milliseconds(delayMs), false))
          << "writer exited on its own";
      int st = w.killAndDrain();
      ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "wait status " << st;
      maxAck = w.maxAck();
      totalAcks += w.acks();
    }
    ASSERT_GT(maxAck, ackedBefore) << "the writer did not resume after the stored lines";
    // Re-check the last 1,000 lines of the previous round and everything new; the whole log is
    // checked once more at the end.
    uint64_t from = verifiedNext > 1000 ? verifiedNext - 1000 : 1;
    uint64_t next = verify(from, maxAck);
    ASSERT_FALSE(HasFailure());
    ASSERT_GE(next, verifiedNext);
    verifiedNext = next;
  }
  verify(1, verifiedNext - 1);
  auto secs = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count() / 1000.0;
  std::printf("%d kills, %llu acknowledged batches, %llu lines, %.1f s\n", kRounds,
              static_cast<unsigned long long>(totalAcks),
              static_cast<unsigned long long>(verifiedNext - 1), secs);
}

}  // namespace
}  // namespace zc::testing
