// FollowLoop: a fixed set of threads whatever the number of tasks; a task's step never runs
// twice at once; a step that blocks holds only its own task; deadlines and stops wake tasks; a
// socket read ahead is drained while its step is held, up to a bound, bytes in order.
#include "follow_loop.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <future>
#include <thread>

#include "test_support.h"

namespace zc::docker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

size_t threadCount() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/task");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// A task that reads its end of a socketpair; `onBytes` runs in the step for each read.
class PipeTask : public LoopTask {
 public:
  PipeTask() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    fd_ = sv[0];
    peer_ = sv[1];
    // A small send buffer whatever the host's default, so that a writer nobody reads is held
    // after ~64 KiB (the kernel doubles the value).
    int sndbuf = 32 * 1024;
    EXPECT_EQ(::setsockopt(peer_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
  }
  void closePeer() {
    ::close(peer_);
    peer_ = -1;
  }
  ~PipeTask() override {
    if (fd_ >= 0) ::close(fd_);
    if (peer_ >= 0) ::close(peer_);
  }
  void write(const std::string& s) {
    ASSERT_EQ(::send(peer_, s.data(), s.size(), 0), ssize_t(s.size()));
  }
  // Sends `s` whole, waiting while the socket is full; false after `within`.
  bool sendAll(const std::string& s, std::chrono::milliseconds within) {
    size_t off = 0;
    auto until = Clock::now() + within;
    while (off < s.size()) {
      ssize_t w = ::send(peer_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (w > 0) {
        off += static_cast<size_t>(w);
      } else if (Clock::now() >= until) {
        sent += off;
        return false;
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    sent += off;
    return true;
  }
  std::string received() {
    std::lock_guard<std::mutex> lock(mu);
    return data;
  }
  bool readAhead = false;  // read through setReadAhead()/readSome()
  // Set: after reading, wait for this deadline only (a linger) instead of the socket.
  std::optional<Clock::time_point> lingerUntil;
  std::atomic<bool> sawEnd{false};
  std::atomic<size_t> sent{0};
  std::function<void(size_t)> onBytes;
  std::atomic<size_t> bytes{0};
  std::atomic<int> steps{0};
  std::atomic<int> concurrent{0};
  std::atomic<int> maxConcurrent{0};
  std::atomic<bool> endedStopped{false};
  std::optional<Clock::time_point> deadline;

 protected:
  LoopWait step() noexcept override {
    int c = ++concurrent;
    int m = maxConcurrent.load();
    while (c > m && !maxConcurrent.compare_exchange_weak(m, c)) {
    }
    ++steps;
    LoopWait w;
    if (stopRequested()) {
      closeFd(fd_);
      endedStopped = true;
      w.done = true;
    } else {
      if (readAhead && steps.load() == 1) setReadAhead(fd_);
      char buf[4096];
      ssize_t r = 0;
      while (!stopRequested() &&
             (r = readAhead ? readSome(fd_, buf, sizeof buf) : ::recv(fd_, buf, sizeof buf, 0)) >
                 0) {
        bytes += static_cast<size_t>(r);
        {
          std::lock_guard<std::mutex> lock(mu);
          data.append(buf, static_cast<size_t>(r));
        }
        if (onBytes) onBytes(static_cast<size_t>(r));
      }
      if (r == 0) sawEnd = true;
      if (lingerUntil && Clock::now() < *lingerUntil) {
        w.deadline = lingerUntil;
      } else {
        w.fd = fd_;
        w.events = EPOLLIN;
        w.deadline = deadline;
      }
    }
    --concurrent;
    return w;
  }

 private:
  int fd_ = -1;
  int peer_ = -1;
  std::mutex mu;
  std::string data;
};

TEST(FollowLoopTest, ThreadsStayFixedWhateverTheNumberOfTasks) {
  size_t before = threadCount();
  auto loop = std::make_shared<FollowLoop>(3);
  std::vector<std::shared_ptr<PipeTask>> tasks;
  for (int i = 0; i < 300; ++i) {
    tasks.push_back(std::make_shared<PipeTask>());
    loop->add(tasks.back());
  }
  EXPECT_EQ(threadCount(), before + 4);
  for (auto& t : tasks) t->write("hello");
  ASSERT_TRUE(zc::testing::waitFor(
      [&] {
        for (auto& t : tasks) {
          if (t->bytes.load() != 5) return false;
        }
        return true;
      },
      10s));
  EXPECT_EQ(threadCount(), before + 4);
  for (auto& t : tasks) {
    t->requestStopAndWait();
    EXPECT_TRUE(t->endedStopped.load());
    EXPECT_EQ(t->maxConcurrent.load(), 1);
  }
  EXPECT_EQ(loop->tasks(), 0u);
  loop.reset();
  EXPECT_EQ(threadCount(), before);
}

TEST(FollowLoopTest, ABlockedStepHoldsOnlyItsOwnTask) {
  auto loop = std::make_shared<FollowLoop>(2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto held = std::make_shared<PipeTask>();
  held->onBytes = [&](size_t) { released.wait(); };  // a storage write that does not return
  auto other = std::make_shared<PipeTask>();
  loop->add(held);
  loop->add(other);
  held->write("x");
  ASSERT_TRUE(zc::testing::waitFor([&] { return held->bytes.load() == 1; }, 5s));
  held->write("more bytes that wait in the socket");
  for (int i = 0; i < 20; ++i) {
    other->write("y");
    ASSERT_TRUE(zc::testing::waitFor([&] { return other->bytes.load() == size_t(i + 1); }, 5s));
  }
  EXPECT_EQ(held->bytes.load(), 1u);  // its own socket is not read meanwhile
  // A stop from another thread waits for the held step.
  auto stopper = std::async(std::launch::async, [&] { held->requestStopAndWait(); });
  EXPECT_EQ(stopper.wait_for(200ms), std::future_status::timeout);
  release.set_value();
  EXPECT_EQ(stopper.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(held->endedStopped.load());
  other->requestStopAndWait();
}

// `n` bytes that tell their own position: "00000000 00000001 ..." (9 bytes per number).
std::string numbered(size_t n, size_t first = 0) {
  std::string s;
  s.reserve(n + 9);
  char b[16];
  for (size_t i = first; s.size() < n; ++i) {
    std::snprintf(b, sizeof b, "%08zu ", i);
    s += b;
  }
  s.resize(n);
  return s;
}

// A read-ahead task on a loop of its own, whose step holds on the first bytes it gets (a
// commit that does not return yet) until release().
struct HeldStep {
  std::shared_ptr<FollowLoop> loop = std::make_shared<FollowLoop>(1);
  std::shared_ptr<PipeTask> task = std::make_shared<PipeTask>();
  std::promise<void> releaser;
  std::shared_future<void> released = releaser.get_future().share();
  std::atomic<bool> holding{false};

  HeldStep() {
    task->readAhead = true;
    task->onBytes = [this](size_t) {
      if (!holding.exchange(true)) released.wait();
    };
    loop->add(task);
  }
  // A failed assertion leaves no step held and no step running past the test.
  ~HeldStep() {
    release();
    task->requestStopAndWait();
  }
  // Sends "x" and waits until the step holds on it.
  bool hold() {
    return task->sendAll("x", 5s) && zc::testing::waitFor([&] { return holding.load(); }, 5s);
  }
  void release() {
    if (!isReleased) releaser.set_value();
    isReleased = true;
  }

 private:
  bool isReleased = false;
};

TEST(FollowLoopTest, ReadAheadKeepsTheSocketDrainedWhileTheStepIsHeldAndKeepsTheOrder) {
  HeldStep held;
  auto& loop = held.loop;
  auto& t = held.task;
  ASSERT_TRUE(held.hold());
  // 600 KB in 100-byte messages: several times what the socket itself holds (~200 KB of
  // buffer, less for small messages), so the writer gets through only if it is read ahead.
  const std::string body = numbered(600'000);
  for (size_t off = 0; off < body.size(); off += 100) {
    ASSERT_TRUE(t->sendAll(body.substr(off, 100), 5s)) << "writer held at byte " << off;
  }
  EXPECT_EQ(t->bytes.load(), 1u);  // the step is still held
  EXPECT_GE(loop->readAheadBytes(), 600'000u - 300'000u);
  held.release();
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->bytes.load() == 1 + body.size(); }, 10s));
  EXPECT_TRUE(t->received() == "x" + body);  // every byte once, in order
  EXPECT_EQ(loop->readAheadBytes(), 0u);
  t->requestStopAndWait();
}

// A stream written in many small pieces (the engine's one HTTP chunk per line) is read ahead in
// far fewer reads than writes: after a read the dispatcher pauses before it waits again.
TEST(FollowLoopTest, ReadAheadTakesManySmallWritesInFewReads) {
  HeldStep held;
  auto& loop = held.loop;
  auto& t = held.task;
  ASSERT_TRUE(held.hold());
  const uint64_t before = loop->readAheadReads();
  const auto start = Clock::now();
  // 400 writes of 100 bytes, one every 50 us or more: without the pause, a read per write; with
  // it, the dispatcher's passes that read are kReadAheadPause apart, so at most one read per
  // pause over the time it took (however slow the machine makes the writer), and one more at
  // each end.
  const std::string body = numbered(40'000);
  for (size_t off = 0; off < body.size(); off += 100) {
    ASSERT_TRUE(t->sendAll(body.substr(off, 100), 5s));
    for (auto until = Clock::now() + 50us; Clock::now() < until;) {
    }
  }
  ASSERT_TRUE(zc::testing::waitFor([&] { return loop->readAheadBytes() == body.size(); }, 5s));
  const auto elapsed = Clock::now() - start;
  const uint64_t reads = loop->readAheadReads() - before;
  EXPECT_GE(reads, 1u);
  EXPECT_LE(reads, static_cast<uint64_t>(elapsed / FollowLoop::kReadAheadPause) + 2)
      << "reads for 400 writes in "
      << std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count() << " us";
  held.release();
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->bytes.load() == 1 + body.size(); }, 10s));
  EXPECT_TRUE(t->received() == "x" + body);
}

TEST(FollowLoopTest, ReadAheadStopsAtItsBoundAndClosingDropsWhatItHolds) {
  HeldStep held;
  auto& loop = held.loop;
  auto& t = held.task;
  auto& holding = held.holding;
  ASSERT_TRUE(held.hold());
  // 3 MiB against a 1 MiB bound: the writer is held (back-pressure), the buffer stays bounded.
  const std::string body = numbered(3 << 20);
  EXPECT_FALSE(t->sendAll(body, 1s));
  EXPECT_LT(t->sent.load(), body.size());
  EXPECT_LE(loop->readAheadBytes(), FollowLoop::kReadAheadMax);
  EXPECT_GE(loop->readAheadBytes(), FollowLoop::kReadAheadMax / 2);
  held.release();
  // Once released, what was sent arrives whole and in order (the rest was never sent).
  const size_t sent = t->sent.load();  // "x" and the part of the body that went in
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->bytes.load() == sent; }, 10s))
      << t->bytes.load() << " of " << sent << ", read ahead " << loop->readAheadBytes();
  EXPECT_TRUE(t->received() == "x" + body.substr(0, sent - 1));
  // Bytes read ahead and not yet taken are dropped (and uncounted) when the socket is closed.
  // (The step that read the last bytes must be over before its callback is replaced.)
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->concurrent.load() == 0; }, 5s));
  holding = false;
  std::promise<void> release2;
  std::shared_future<void> released2 = release2.get_future().share();
  t->onBytes = [&](size_t) {
    if (!holding.exchange(true)) released2.wait();
  };
  ASSERT_TRUE(t->sendAll("y", 5s));
  ASSERT_TRUE(zc::testing::waitFor([&] { return holding.load(); }, 5s));
  ASSERT_TRUE(t->sendAll(numbered(100'000), 5s));
  ASSERT_TRUE(zc::testing::waitFor([&] { return loop->readAheadBytes() > 0; }, 5s));
  auto stopper = std::async(std::launch::async, [&] { t->requestStopAndWait(); });
  release2.set_value();
  ASSERT_EQ(stopper.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(t->endedStopped.load());
  EXPECT_EQ(loop->readAheadBytes(), 0u);
}

TEST(FollowLoopTest, ALingeringTaskIsReadAheadAndWokenEarlyByAFullBufferOrTheEnd) {
  auto loop = std::make_shared<FollowLoop>(1);
  auto t = std::make_shared<PipeTask>();
  t->readAhead = true;
  loop->add(t);
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->steps.load() >= 1; }, 5s));
  t->lingerUntil = Clock::now() + 60s;  // the next steps wait for this deadline only
  ASSERT_TRUE(t->sendAll("x", 5s));
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->bytes.load() == 1; }, 5s));
  // Lingering: bytes are read ahead (the writer is not held) and do not end the linger...
  const int steps = t->steps.load();
  ASSERT_TRUE(t->sendAll(numbered(300'000), 5s));
  ASSERT_TRUE(zc::testing::waitFor([&] { return loop->readAheadBytes() >= 300'000u; }, 5s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(t->steps.load(), steps);
  EXPECT_EQ(t->bytes.load(), 1u);
  // ...until the buffer is full: that wakes the task, which takes everything in order.
  const std::string first = numbered(300'000);
  const std::string more = numbered(1'200'000, 300'000 / 9 + 1);
  std::atomic<bool> wrote{false};
  std::thread writer([&] { wrote = t->sendAll(more, 10s); });
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->bytes.load() > 1'000'000u; }, 10s));
  writer.join();
  EXPECT_TRUE(wrote.load());  // never held for long
  // What came after that wake is read ahead again while the task lingers on.
  ASSERT_TRUE(zc::testing::waitFor(
      [&] { return t->bytes.load() + loop->readAheadBytes() == t->sent.load(); }, 10s));
  // The stream's end, seen by the dispatcher while the task lingers, wakes it too: it takes
  // the rest, every byte once, in order.
  t->closePeer();
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->sawEnd.load(); }, 5s));
  EXPECT_EQ(t->bytes.load(), t->sent.load());
  EXPECT_EQ(loop->readAheadBytes(), 0u);
  EXPECT_TRUE(t->received() == "x" + first + more);
  t->requestStopAndWait();
}

TEST(FollowLoopTest, DeadlineWakesATaskWithoutData) {
  auto loop = std::make_shared<FollowLoop>(1);
  auto t = std::make_shared<PipeTask>();
  auto t0 = Clock::now();
  t->deadline = t0 + 100ms;
  loop->add(t);
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->steps.load() >= 2; }, 5s));
  EXPECT_GE(Clock::now() - t0, 100ms);
  t->deadline.reset();
  t->requestStopAndWait();
}

TEST(FollowLoopTest, StopFromInsideTheStepReturnsAtOnceAndTheTaskEndsAfter) {
  auto loop = std::make_shared<FollowLoop>(1);
  auto t = std::make_shared<PipeTask>();
  std::atomic<bool> returned{false};
  t->onBytes = [&](size_t) {
    t->requestStopAndWait();  // from the consumer's callback: must not deadlock
    returned = true;
  };
  loop->add(t);
  t->write("z");
  ASSERT_TRUE(zc::testing::waitFor([&] { return t->endedStopped.load(); }, 5s));
  EXPECT_TRUE(returned.load());
  EXPECT_EQ(loop->tasks(), 0u);
}

TEST(FollowLoopTest, StopOfAnIdleTaskRunsItsLastStepOnTheCaller) {
  // One worker, held by another task: the stop must not need a worker.
  auto loop = std::make_shared<FollowLoop>(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto busy = std::make_shared<PipeTask>();
  busy->onBytes = [&](size_t) { released.wait(); };
  auto idle = std::make_shared<PipeTask>();
  loop->add(busy);
  loop->add(idle);
  ASSERT_TRUE(zc::testing::waitFor([&] { return idle->steps.load() >= 1; }, 5s));
  busy->write("b");
  ASSERT_TRUE(zc::testing::waitFor([&] { return busy->bytes.load() == 1; }, 5s));
  auto t0 = Clock::now();
  idle->requestStopAndWait();
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_TRUE(idle->endedStopped.load());
  release.set_value();
  busy->requestStopAndWait();
}

}  // namespace
}  // namespace zc::docker
