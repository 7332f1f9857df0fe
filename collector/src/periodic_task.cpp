#include "periodic_task.h"

#include <spdlog/spdlog.h>

namespace zc::collector {

PeriodicTask::PeriodicTask(std::string name, std::chrono::nanoseconds interval,
                           std::function<void()> run, FirstRun first)
    : name_(std::move(name)), interval_(interval), run_(std::move(run)), first_(first) {}

PeriodicTask::~PeriodicTask() { stop(); }

void PeriodicTask::start() {
  thread_ = std::thread([this] { loop(); });
}

void PeriodicTask::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool PeriodicTask::pause(std::chrono::nanoseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

bool PeriodicTask::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool PeriodicTask::waitInterval() {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, interval_, [&] { return stopping_ || woken_; });
  woken_ = false;
  return !stopping_;
}

void PeriodicTask::loop() {
  if (first_ == FirstRun::kAfterInterval && !waitInterval()) return;
  do {
    if (stopping()) return;  // a stop() that came during the wait's last moment wins
    try {
      run_();
    } catch (const std::exception& e) {
      spdlog::error("{}: run failed (next run as scheduled): {}", name_, e.what());
    }
  } while (waitInterval());
}

}  // namespace zc::collector
