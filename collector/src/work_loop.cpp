#include "work_loop.h"

#include <spdlog/spdlog.h>

namespace zc::collector {

WorkLoop::WorkLoop(std::string name) : name_(std::move(name)) {}

WorkLoop::~WorkLoop() { stop(); }

void WorkLoop::start() {
  thread_ = std::thread([this] { loop(); });
}

void WorkLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    now_.push_back(std::move(fn));
  }
  cv_.notify_all();
}

void WorkLoop::postAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    later_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
  }
  cv_.notify_all();
}

void WorkLoop::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  now_.clear();
  later_.clear();
}

void WorkLoop::loop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      auto due = [&] {
        return !later_.empty() && later_.begin()->first <= std::chrono::steady_clock::now();
      };
      while (!stopping_ && now_.empty() && !due()) {
        if (later_.empty()) {
          cv_.wait(lock);
        } else {
          cv_.wait_until(lock, later_.begin()->first);
        }
      }
      if (stopping_) return;
      if (!now_.empty()) {
        fn = std::move(now_.front());
        now_.pop_front();
      } else {
        fn = std::move(later_.begin()->second);
        later_.erase(later_.begin());
      }
    }
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", name_, e.what());
    }
  }
}

}  // namespace zc::collector
