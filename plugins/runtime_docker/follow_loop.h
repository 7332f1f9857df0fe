// FollowLoop: a fixed set of threads that drives any number of log follows.
//
// One dispatcher thread waits in epoll_wait() on the follows' non-blocking engine connections and
// on their deadlines; a follow that is ready (its socket is readable or writable, its deadline
// passed, or it was woken) is queued to a small pool of workers that run its step(). A task's
// step() never runs on two threads at once, and while it runs its socket is out of the epoll
// interest set (EPOLLONESHOT; re-armed only by the Wait the step returns). So a step may block
// (a consumer holding a storage write, an inspect request): that stops reading that follow's own
// socket only, and holds one worker; the others go on with every other follow.
//
// The thread count is 1 + workers, whatever the number of follows.
//
// Read-ahead: a task may name its stream socket (setReadAhead()). While its step() runs, or while
// it waits for a deadline only or its next turn (a yield), the dispatcher keeps reading that
// socket into the task's buffer (up to kReadAheadMax bytes per task and kReadAheadBudget over the
// loop), so the peer is not held by the time a step takes: the Docker engine writes one HTTP
// chunk per log line and stalls once ~200 KB of them wait in its socket, i.e. after ~3 ms of a
// step at a flood's rate. The step reads through readSome(), which hands over what was read
// ahead before it reads the socket itself; the two never read the socket at once, so bytes keep
// their order. A full buffer is not read further (the socket is left unread: back-pressure, as
// without read-ahead) until the step has emptied it; a full buffer or the stream's end wakes a
// task that waits for a deadline. After a pass that read bytes ahead the dispatcher pauses
// kReadAheadPause before it waits again, so the next bytes gather in the socket and are taken in
// one read: a reader woken for each of the engine's per-line writes costs the engine and the
// collector a wake-up per line (the pause cut the collector's CPU per line by ~30% and the
// engine's by ~15% in bench_ingest). It delays a line, and every other task's wake-up and
// deadline, by that much (and the sleep's overshoot under load) at most.
//
// OWNERSHIP: the loop keeps a reference to each task until the task's step() returns done.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

namespace zc::docker {

class FollowLoop;

// What a task waits for after a step: readiness of `fd` (EPOLLIN/EPOLLOUT) and/or a deadline,
// whichever comes first; `yield` queues the task again at once (behind the others); `done` ends
// it (its fd must be closed by then, see LoopTask::closeFd()).
struct LoopWait {
  int fd = -1;
  uint32_t events = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  bool yield = false;
  bool done = false;
};

class LoopTask {
 public:
  virtual ~LoopTask() = default;

  // Asks the task to end: sets stopRequested() and runs its step soon. When called on the thread
  // that runs the task's step (from inside its callbacks) it returns at once; from any other
  // thread it returns once the task is done (its last step returned), so no callback runs after.
  void requestStopAndWait() noexcept;
  bool stopRequested() const noexcept { return stopRequested_.load(std::memory_order_acquire); }

 protected:
  // Runs on a worker; never concurrently with itself; may be called without its fd being ready
  // or its deadline passed (it must then just wait again).
  virtual LoopWait step() noexcept = 0;
  // Removes `fd` from the loop's interest set and closes it; sets fd to -1. Bytes read ahead
  // from it are dropped.
  void closeFd(int& fd) noexcept;
  // Reads `fd` (a non-blocking stream socket this task owns) ahead while the step runs or waits
  // for a deadline only or its next turn; until closeFd(fd). Call from the step.
  void setReadAhead(int fd) noexcept;
  // recv() of `fd`, bytes read ahead from it first: > 0 bytes copied into `buf`, 0 at the end
  // of the stream, -1 with errno (EAGAIN: nothing now). Call from the step only.
  ssize_t readSome(int fd, char* buf, size_t len) noexcept;
  FollowLoop* loop() const noexcept { return loop_; }

 private:
  friend class FollowLoop;
  // Forgets the socket read ahead and drops (and uncounts) what was read from it. mu_ held.
  void stopReadAhead() noexcept;
  FollowLoop* loop_ = nullptr;
  uint64_t id_ = 0;
  std::atomic<bool> stopRequested_{false};
  // Guarded by mu_:
  std::mutex mu_;
  std::condition_variable doneCv_;
  bool queued_ = false;   // in the worker queue
  bool running_ = false;  // step() runs now
  bool again_ = false;    // woken while running: run once more
  bool done_ = false;
  int armedFd_ = -1;  // registered with epoll (possibly disarmed by ONESHOT)
  int aheadFd_ = -1;   // the socket read ahead (setReadAhead)
  bool readsAhead_ = false;  // not waiting for its socket (a linger, a yield): read it ahead
  bool aheadGot_ = false;    // bytes were read ahead while the step ran
  std::thread::id runner_;
  // The bytes read ahead: [aheadPos_, aheadSize_) of ahead_ (kReadAheadMax bytes, allocated when
  // first needed, given back when the follow waits for its socket with nothing held, or the
  // socket is closed); aheadOf_: the socket they come from; aheadEnd_: 0, or what the socket
  // said after them (kAheadEof, or an errno); aheadPaused_: the dispatcher stopped at a full
  // buffer (readSome() resumes it once the buffer is empty). Guarded by aheadMu_, taken after
  // mu_ when both are held.
  std::mutex aheadMu_;
  std::unique_ptr<char[]> ahead_;
  int aheadOf_ = -1;
  size_t aheadPos_ = 0;
  size_t aheadSize_ = 0;
  int aheadEnd_ = 0;
  bool aheadPaused_ = false;
  static constexpr int kAheadEof = -1;
  // Guarded by the loop's mu_: this task's entry in its timers.
  bool hasTimer_ = false;
  std::multimap<std::chrono::steady_clock::time_point, uint64_t>::iterator timer_;
};

class FollowLoop {
 public:
  // Read-ahead bounds (see the top of this file): per task, and over all tasks of the loop.
  static constexpr size_t kReadAheadMax = 1 << 20;
  static constexpr size_t kReadAheadBudget = 16 << 20;
  static constexpr std::chrono::microseconds kReadAheadPause{200};

  // Starts the dispatcher and `workers` worker threads (at least 1).
  explicit FollowLoop(size_t workers);
  // Stops the threads. Tasks still registered are dropped without another step (the runtime
  // stops every follow first: each Subscription holds the loop).
  ~FollowLoop();
  FollowLoop(const FollowLoop&) = delete;
  FollowLoop& operator=(const FollowLoop&) = delete;

  // Registers `task` and runs its first step soon.
  void add(const std::shared_ptr<LoopTask>& task);
  // Runs the task's step soon (no-op once done).
  void wake(LoopTask* task);

  size_t workers() const noexcept { return workers_.size(); }
  size_t tasks() const;
  // Bytes read ahead and not yet handed to their steps, over all tasks.
  size_t readAheadBytes() const noexcept { return aheadBytes_.load(std::memory_order_relaxed); }
  // Reads ahead that returned bytes, since the start.
  uint64_t readAheadReads() const noexcept { return aheadReads_.load(std::memory_order_relaxed); }
  // True on one of this loop's threads.
  bool onLoopThread() const noexcept;

 private:
  friend class LoopTask;
  void dispatch();
  void work();
  void schedule(LoopTask& t);  // t.mu_ held
  void afterStep(const std::shared_ptr<LoopTask>& t, const LoopWait& w);
  void arm(LoopTask& t, int fd, uint32_t events);  // t.mu_ held
  void setTimer(LoopTask& t, std::optional<std::chrono::steady_clock::time_point> at);
  void forgetFd(int fd) noexcept;
  // On readiness of `t`'s socket while its step runs or it waits for a deadline only: reads the
  // socket ahead (`*read` set when bytes came). False when `t` is to be woken instead. t.mu_ held.
  bool readAhead(LoopTask& t, bool* read);
  // The stream's end was read ahead and the step has taken everything before it (reading the
  // socket again would only wake the task again). t.mu_ held.
  bool endTaken(LoopTask& t);
  void kick() noexcept;
  std::shared_ptr<LoopTask> find(uint64_t id) const;

  int epfd_ = -1;
  int wakeFd_ = -1;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable workCv_;
  std::deque<std::shared_ptr<LoopTask>> queue_;
  std::unordered_map<uint64_t, std::shared_ptr<LoopTask>> tasks_;
  std::multimap<std::chrono::steady_clock::time_point, uint64_t> timers_;  // task ids
  uint64_t nextId_ = 1;
  bool stopping_ = false;
  std::atomic<size_t> aheadBytes_{0};
  std::atomic<uint64_t> aheadReads_{0};
  std::thread dispatcher_;
  std::vector<std::thread> workers_;
};

}  // namespace zc::docker
