// WorkLoop: one thread that runs posted functions one at a time: those posted now in the order
// they were posted, and delayed ones when they fall due (posted ones first). Whatever a function
// touches needs no lock against the others: they never run concurrently.
//
// OWNERSHIP: the loop owns its thread and the functions posted to it (with what they capture
// by value). Thread-safety: post() and postAfter() from any thread, including from a posted
// function; they never block on a running function. start() and stop() from one thread;
// stop() is idempotent (also run by the destructor) and must not be called from the loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace zc::collector {

class WorkLoop {
 public:
  // `name` tags the log line of a function that threw (the loop goes on).
  explicit WorkLoop(std::string name);
  ~WorkLoop();
  WorkLoop(const WorkLoop&) = delete;
  WorkLoop& operator=(const WorkLoop&) = delete;

  void start();
  // Runs `fn` on the loop soon. Dropped once stop() began.
  void post(std::function<void()> fn);
  // Runs `fn` on the loop once `delay` has passed. Dropped once stop() began.
  void postAfter(std::chrono::milliseconds delay, std::function<void()> fn);
  // Waits for the running function, joins the thread and drops the rest.
  void stop() noexcept;

 private:
  void loop();

  const std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> now_;                                       // guarded by mu_
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> later_;  // mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace zc::collector
