// WorkPool: a bounded set of worker threads that run the jobs of a pass, reused pass after pass.
//
// forEach(n, fn) runs fn(0) .. fn(n-1), at most size() of them at once, and returns when all
// have returned. Workers are started when a pass first needs them, never more than size(), and
// then kept until stop(): a pass starts no thread once the pool has grown to what the passes
// need, so threads and descriptors stay flat from one pass to the next. An exception thrown by
// a job is logged and counts as the job done.
//
// OWNERSHIP: the pool owns its threads; `fn` is borrowed for the duration of forEach().
// Thread-safety: all methods are thread-safe; concurrent forEach() calls share the workers.
// stop() lets queued jobs finish, then joins the workers; after it, forEach() runs the jobs on
// the calling thread, one after another. Never call stop() from a job.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zc::collector {

class WorkPool {
 public:
  // `name` tags log messages; `size` (at least 1) bounds the jobs running at once.
  WorkPool(std::string name, size_t size);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void forEach(size_t n, const std::function<void(size_t)>& fn);
  // Idempotent; also called by the destructor.
  void stop() noexcept;

  size_t size() const noexcept { return size_; }
  // Workers started so far (at most size()).
  size_t threads() const;

 private:
  void workerLoop();
  // fn(i), logging what it throws.
  void runJob(const std::function<void(size_t)>& fn, size_t i) const;

  const std::string name_;
  const size_t size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_: workers waiting for a job
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> workers_;        // guarded by mu_
};

}  // namespace zc::collector
