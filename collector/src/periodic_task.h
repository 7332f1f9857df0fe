// PeriodicTask: one thread that runs a function every interval, from start() to stop().
//
// The first run happens at start() or one interval after it, as the caller chooses; the next
// run begins one interval after the previous one ended, so runs never overlap (they all happen
// on the task's one thread). stop() wakes the waiting thread at once through a condition
// variable and joins it; a run in progress is finished first, never interrupted (a long run can
// wait through pause(), which stop() cuts short). wake() asks for a run before the interval is
// over. An exception thrown by the function is logged and the schedule goes on.
//
// OWNERSHIP: the task owns its thread and the function (and whatever the function captures by
// value); anything captured by reference must outlive stop(). Thread-safety: start() and stop()
// from one thread (stop() is idempotent and also called by the destructor); never call stop()
// from inside the function. wake(), pause() and stopping() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace zc::collector {

class PeriodicTask {
 public:
  enum class FirstRun { kAtStart, kAfterInterval };

  // `name` tags log messages.
  PeriodicTask(std::string name, std::chrono::nanoseconds interval, std::function<void()> run,
               FirstRun first = FirstRun::kAtStart);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // Starts the thread. Call at most once.
  void start();
  // Wakes and joins the thread; waits for a run in progress to end. No run starts afterwards.
  void stop() noexcept;
  // Runs now when waiting for the interval, or once more right after the run in progress.
  void wake();
  // Waits `d` (for use inside the function); false at once when stop() was called.
  bool pause(std::chrono::nanoseconds d);
  bool stopping() const;

 private:
  void loop();
  // Waits one interval or for wake(); false when stopped meanwhile.
  bool waitInterval();

  const std::string name_;
  const std::chrono::nanoseconds interval_;
  const std::function<void()> run_;
  const FirstRun first_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace zc::collector
