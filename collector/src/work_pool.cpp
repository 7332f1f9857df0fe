#include "work_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace zc::collector {

WorkPool::WorkPool(std::string name, size_t size)
    : name_(std::move(name)), size_(std::max<size_t>(1, size)) {}

WorkPool::~WorkPool() { stop(); }

size_t WorkPool::threads() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void WorkPool::forEach(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  std::mutex doneMu;
  std::condition_variable doneCv;
  size_t remaining = n;  // guarded by doneMu
  auto finished = [&] {
    std::lock_guard lock(doneMu);
    if (--remaining == 0) doneCv.notify_all();
  };
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      for (size_t i = 0; i < n; ++i) runJob(fn, i);
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      jobs_.emplace_back([&fn, &finished, i, this] {
        runJob(fn, i);
        finished();
      });
    }
    // Enough workers for the jobs now queued, within the bound.
    while (workers_.size() < size_ && idle_ < jobs_.size()) {
      workers_.emplace_back([this] { workerLoop(); });
      ++idle_;  // counted idle until it takes its first job
    }
  }
  cv_.notify_all();
  std::unique_lock lock(doneMu);
  doneCv.wait(lock, [&] { return remaining == 0; });
}

void WorkPool::runJob(const std::function<void(size_t)>& fn, size_t i) const {
  try {
    fn(i);
  } catch (const std::exception& e) {
    spdlog::error("{}: job failed: {}", name_, e.what());
  }
}

void WorkPool::workerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    --idle_;
    lock.unlock();
    job();
    lock.lock();
    ++idle_;
  }
}

void WorkPool::stop() noexcept {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    workers.swap(workers_);
  }
  cv_.notify_all();
  for (auto& t : workers) t.join();
}

}  // namespace zc::collector
