#include "follow_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace zc::docker {

namespace {
int msUntil(std::chrono::steady_clock::time_point t) {
  auto d = std::chrono::ceil<std::chrono::milliseconds>(t - std::chrono::steady_clock::now());
  if (d.count() <= 0) return 0;
  return d.count() > 60'000 ? 60'000 : static_cast<int>(d.count());
}
constexpr uint64_t kWakeId = 0;  // epoll data of the dispatcher's own eventfd
}  // namespace

void LoopTask::closeFd(int& fd) noexcept {
  if (fd < 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (armedFd_ == fd) armedFd_ = -1;
    if (aheadFd_ == fd) stopReadAhead();
  }
  if (loop_) loop_->forgetFd(fd);
  ::close(fd);
  fd = -1;
}

void LoopTask::stopReadAhead() noexcept {
  aheadFd_ = -1;
  std::lock_guard<std::mutex> al(aheadMu_);
  if (loop_) loop_->aheadBytes_.fetch_sub(aheadSize_ - aheadPos_, std::memory_order_relaxed);
  ahead_.reset();
  aheadOf_ = -1;
  aheadPos_ = aheadSize_ = 0;
  aheadEnd_ = 0;
  aheadPaused_ = false;
}

void LoopTask::setReadAhead(int fd) noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  aheadFd_ = fd;
  {
    std::lock_guard<std::mutex> al(aheadMu_);
    aheadOf_ = fd;
    aheadEnd_ = 0;
    aheadPaused_ = false;
  }
  if (running_ && loop_) loop_->arm(*this, fd, EPOLLIN);  // read ahead from now on
}

ssize_t LoopTask::readSome(int fd, char* buf, size_t len) noexcept {
  ssize_t n = 0;
  bool resume = false;
  {
    std::lock_guard<std::mutex> al(aheadMu_);
    if (fd != aheadOf_) return ::recv(fd, buf, len, 0);
    if (aheadPos_ < aheadSize_) {
      const size_t k = std::min(len, aheadSize_ - aheadPos_);
      std::memcpy(buf, ahead_.get() + aheadPos_, k);
      aheadPos_ += k;
      if (loop_) loop_->aheadBytes_.fetch_sub(k, std::memory_order_relaxed);
      if (aheadPos_ == aheadSize_) {
        aheadPos_ = aheadSize_ = 0;  // the buffer is kept until the follow waits idle
        resume = aheadPaused_;
        aheadPaused_ = false;
      }
      n = static_cast<ssize_t>(k);
    } else if (aheadEnd_ == kAheadEof) {
      return 0;
    } else if (aheadEnd_ != 0) {
      errno = aheadEnd_;
      return -1;
    } else {
      // Under aheadMu_: the dispatcher does not read this socket meanwhile.
      return ::recv(fd, buf, len, 0);
    }
  }
  if (resume) {
    // The dispatcher stopped reading at a full buffer; there is room again, and the step may
    // go on to a long commit: read ahead again (mu_ before aheadMu_, so not under it).
    std::lock_guard<std::mutex> lock(mu_);
    if (aheadFd_ == fd && running_ && loop_) loop_->arm(*this, fd, EPOLLIN);
  }
  return n;
}

void LoopTask::requestStopAndWait() noexcept {
  stopRequested_.store(true, std::memory_order_release);
  std::unique_lock<std::mutex> lock(mu_);
  if (done_ || loop_ == nullptr) return;
  if (running_) {
    if (runner_ == std::this_thread::get_id()) return;  // from inside its own step
    again_ = true;
    doneCv_.wait(lock, [&] { return done_; });
    return;
  }
  // Not running: run the last step here rather than wait for a worker (a worker may be the
  // caller, and the others may all be busy).
  running_ = true;
  readsAhead_ = false;
  runner_ = std::this_thread::get_id();
  lock.unlock();
  auto self = loop_->find(id_);
  if (!self) {  // the loop is going away
    lock.lock();
    running_ = false;
    return;
  }
  loop_->afterStep(self, step());
  lock.lock();
  doneCv_.wait(lock, [&] { return done_; });
}

FollowLoop::FollowLoop(size_t workers) {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd_ < 0 || wakeFd_ < 0) {
    if (epfd_ >= 0) ::close(epfd_);
    if (wakeFd_ >= 0) ::close(wakeFd_);
    throw std::runtime_error("follow loop: cannot create epoll/eventfd: " + std::to_string(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeFd_, &ev);
  dispatcher_ = std::thread([this] { dispatch(); });
  if (workers == 0) workers = 1;
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

FollowLoop::~FollowLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  workCv_.notify_all();
  kick();
  auto joinOrDetach = [](std::thread& t) {
    if (!t.joinable()) return;
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();
    } else {
      t.join();
    }
  };
  joinOrDetach(dispatcher_);
  for (auto& t : workers_) joinOrDetach(t);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();
    tasks_.clear();
    timers_.clear();
  }
  ::close(epfd_);
  ::close(wakeFd_);
}

bool FollowLoop::onLoopThread() const noexcept {
  auto me = std::this_thread::get_id();
  if (dispatcher_.get_id() == me) return true;
  for (const auto& t : workers_) {
    if (t.get_id() == me) return true;
  }
  return false;
}

size_t FollowLoop::tasks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

std::shared_ptr<LoopTask> FollowLoop::find(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second;
}

void FollowLoop::add(const std::shared_ptr<LoopTask>& task) {
  std::lock_guard<std::mutex> tl(task->mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    task->loop_ = this;
    task->id_ = nextId_++;
    tasks_[task->id_] = task;
  }
  schedule(*task);
}

void FollowLoop::wake(LoopTask* task) {
  std::lock_guard<std::mutex> tl(task->mu_);
  schedule(*task);
}

void FollowLoop::kick() noexcept {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wakeFd_, &one, sizeof one);
}

void FollowLoop::forgetFd(int fd) noexcept {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

bool FollowLoop::readAhead(LoopTask& t, bool* read) {
  if (t.aheadFd_ < 0 || t.done_ || !(t.running_ || t.readsAhead_)) return false;
  bool got = false;
  bool full = false;
  {
    std::lock_guard<std::mutex> al(t.aheadMu_);
    if (t.aheadEnd_ == 0) {
      const size_t held = aheadBytes_.load(std::memory_order_relaxed);
      const size_t room = std::min(kReadAheadMax - t.aheadSize_,
                                   held < kReadAheadBudget ? kReadAheadBudget - held : 0);
      if (room > 0 && !t.ahead_) t.ahead_.reset(new (std::nothrow) char[kReadAheadMax]);
      if (room > 0 && t.ahead_) {
        ssize_t r = ::recv(t.aheadFd_, t.ahead_.get() + t.aheadSize_, room, 0);
        if (r > 0) {
          t.aheadSize_ += static_cast<size_t>(r);
          aheadBytes_.fetch_add(static_cast<size_t>(r), std::memory_order_relaxed);
          aheadReads_.fetch_add(1, std::memory_order_relaxed);
          got = true;
          *read = true;
        } else if (r == 0) {
          t.aheadEnd_ = LoopTask::kAheadEof;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          t.aheadEnd_ = errno;
        }
        if (t.aheadSize_ == 0) t.ahead_.reset();  // nothing came: hold no buffer for it
      } else {
        full = true;  // at a bound, or out of memory: the step reads the socket itself
      }
    }
    if (t.aheadEnd_ != 0) {
      got = true;
      full = true;
    }
    if (t.aheadSize_ == kReadAheadMax) full = true;
    if (full && t.aheadEnd_ == 0) t.aheadPaused_ = true;  // readSome() resumes it
  }
  if (t.running_) {
    if (got) t.aheadGot_ = true;  // the step may have found the socket empty already
    if (!full) arm(t, t.aheadFd_, EPOLLIN);
    return true;
  }
  // Not waiting for its socket (a linger, or queued after a yield): a full buffer or the
  // stream's end wakes it now.
  if (full) return false;
  arm(t, t.aheadFd_, EPOLLIN);
  return true;
}

bool FollowLoop::endTaken(LoopTask& t) {
  std::lock_guard<std::mutex> al(t.aheadMu_);
  return t.aheadEnd_ != 0 && t.aheadPos_ == t.aheadSize_;
}

void FollowLoop::schedule(LoopTask& t) {
  if (t.done_) return;
  if (t.running_) {
    t.again_ = true;
    return;
  }
  if (t.queued_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tasks_.find(t.id_);
    if (it == tasks_.end() || stopping_) return;
    t.queued_ = true;
    queue_.push_back(it->second);
  }
  workCv_.notify_one();
}

void FollowLoop::arm(LoopTask& t, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.u64 = t.id_;
  if (t.armedFd_ == fd) {
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) == 0) return;
    if (errno != ENOENT) return;
  }
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
  }
  t.armedFd_ = fd;
}

void FollowLoop::afterStep(const std::shared_ptr<LoopTask>& t, const LoopWait& w) {
  std::unique_lock<std::mutex> tl(t->mu_);
  t->running_ = false;
  t->runner_ = {};
  t->readsAhead_ = false;
  const bool aheadGot = std::exchange(t->aheadGot_, false);
  if (w.done) {
    t->done_ = true;
    // A task that ended without closeFd(): keep the loop's count exact.
    if (t->aheadFd_ >= 0) t->stopReadAhead();
    if (t->armedFd_ >= 0) forgetFd(t->armedFd_);
    t->armedFd_ = -1;
    setTimer(*t, std::nullopt);
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.erase(t->id_);
    }
    t->doneCv_.notify_all();
    return;
  }
  bool runAgain = w.yield || t->again_ || t->stopRequested();
  if (w.fd >= 0) {
    arm(*t, w.fd, w.events);
    if (w.fd == t->aheadFd_) {
      // Waiting for the socket: bytes read ahead during the step are a reason to run now (the
      // socket may hold nothing more to make it ready); an empty buffer is given back.
      runAgain = runAgain || aheadGot;
      std::lock_guard<std::mutex> al(t->aheadMu_);
      if (t->aheadPos_ == t->aheadSize_) t->ahead_.reset();
    }
  } else if (t->aheadFd_ >= 0 && (w.deadline || w.yield) && !endTaken(*t)) {
    t->readsAhead_ = true;  // read ahead until the deadline (a linger) or the next turn
    arm(*t, t->aheadFd_, EPOLLIN);
  } else if (t->armedFd_ >= 0) {
    arm(*t, t->armedFd_, 0);  // disarmed: only the deadline wakes it
  }
  setTimer(*t, w.yield ? std::nullopt : w.deadline);
  if (runAgain) {
    t->again_ = false;
    schedule(*t);
  }
}

void FollowLoop::setTimer(LoopTask& t, std::optional<std::chrono::steady_clock::time_point> at) {
  bool earliest = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (t.hasTimer_) timers_.erase(t.timer_);
    t.hasTimer_ = false;
    if (!at) return;
    earliest = timers_.empty() || *at < timers_.begin()->first;
    t.timer_ = timers_.emplace(*at, t.id_);
    t.hasTimer_ = true;
  }
  if (earliest) kick();
}

void FollowLoop::dispatch() {
  epoll_event events[128];
  while (true) {
    bool gotBytes = false;
    int timeout = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (!timers_.empty()) timeout = msUntil(timers_.begin()->first);
    }
    int n = ::epoll_wait(epfd_, events, 128, timeout);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeId) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(wakeFd_, &v, sizeof v);
        continue;
      }
      if (auto t = find(events[i].data.u64)) {
        std::lock_guard<std::mutex> tl(t->mu_);
        if (!readAhead(*t, &gotBytes)) schedule(*t);
      }
    }
    std::vector<std::shared_ptr<LoopTask>> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      auto now = std::chrono::steady_clock::now();
      while (!timers_.empty() && timers_.begin()->first <= now) {
        auto it = tasks_.find(timers_.begin()->second);
        if (it != tasks_.end()) {
          it->second->hasTimer_ = false;
          due.push_back(it->second);
        }
        timers_.erase(timers_.begin());
      }
    }
    for (const auto& t : due) wake(t.get());
    // Let the next bytes of a busy stream gather (see kReadAheadPause).
    if (gotBytes) std::this_thread::sleep_for(kReadAheadPause);
  }
}

void FollowLoop::work() {
  while (true) {
    std::shared_ptr<LoopTask> t;
    {
      std::unique_lock<std::mutex> lock(mu_);
      workCv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      t = std::move(queue_.front());
      queue_.pop_front();
    }
    {
      std::lock_guard<std::mutex> tl(t->mu_);
      t->queued_ = false;
      if (t->done_ || t->running_) continue;  // finished, or being stopped inline
      t->running_ = true;
      t->readsAhead_ = false;
      t->aheadGot_ = false;
      t->runner_ = std::this_thread::get_id();
      if (t->aheadFd_ >= 0) arm(*t, t->aheadFd_, EPOLLIN);  // read ahead while the step runs
    }
    LoopWait w = t->step();
    afterStep(t, w);
  }
}

}  // namespace zc::docker
