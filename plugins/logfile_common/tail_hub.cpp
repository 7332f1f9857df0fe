#include "tail_hub.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace zc::logfile {

TailHub::TailHub(Options options) : options_(options) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.pollInterval.count() <= 0) options_.pollInterval = std::chrono::milliseconds(1000);
  // Without inotify (limits reached) the poll alone still follows every file.
  inotifyFd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  watcher_ = std::thread([this] { watch(); });
  for (size_t i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
}

TailHub::~TailHub() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (eventFd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(eventFd_, &one, sizeof one);
  }
  if (watcher_.joinable()) watcher_.join();
  for (std::thread& t : workers_) t.join();
  if (inotifyFd_ >= 0) ::close(inotifyFd_);
  if (eventFd_ >= 0) ::close(eventFd_);
}

uint64_t TailHub::runs() const noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

uint64_t TailHub::add(const std::string& path, Run run) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t h = next_++;
  Entry& e = entries_[h];
  e.run = std::move(run);
  e.dir = dir;
  e.path = path;
  std::lock_guard<std::mutex> watchLock(watchMu_);
  ++created_[path].users;
  auto it = dirWatch_.find(dir);
  if (it != dirWatch_.end()) {
    ++wds_[it->second].second;
  } else if (inotifyFd_ >= 0) {
    int wd = ::inotify_add_watch(inotifyFd_, dir.c_str(),
                                 IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                     IN_CLOSE_WRITE);
    if (wd >= 0) {
      dirWatch_[dir] = wd;
      wds_[wd] = {dir, 1};
    }
  }
  return h;
}

void TailHub::remove(uint64_t handle) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = entries_.find(handle);
  if (it == entries_.end()) return;
  it->second.removed = true;
  const bool fromRun = it->second.runner == std::this_thread::get_id();
  if (fromRun) {
    it->second.eraseByRunner = true;
  } else {
    idleCv_.wait(lock, [&] {
      return it->second.state != State::kRunning && it->second.state != State::kRerun;
    });
  }
  std::lock_guard<std::mutex> watchLock(watchMu_);
  auto c = created_.find(it->second.path);
  if (c != created_.end() && --c->second.users <= 0) created_.erase(c);
  auto dw = dirWatch_.find(it->second.dir);
  if (dw != dirWatch_.end()) {
    auto w = wds_.find(dw->second);
    if (w != wds_.end() && --w->second.second == 0) {
      if (inotifyFd_ >= 0) ::inotify_rm_watch(inotifyFd_, w->first);
      wds_.erase(w);
      dirWatch_.erase(dw);
    }
  }
  // A run in progress (remove() from inside it) erases the entry when it returns.
  if (!fromRun) entries_.erase(it);
}

void TailHub::wake(uint64_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  scheduleLocked(handle);
}

void TailHub::scheduleLocked(uint64_t handle) {
  auto it = entries_.find(handle);
  if (it == entries_.end() || it->second.removed) return;
  switch (it->second.state) {
    case State::kIdle:
      it->second.state = State::kQueued;
      queue_.push_back(handle);
      cv_.notify_one();
      break;
    case State::kRunning:
      it->second.state = State::kRerun;
      break;
    case State::kQueued:
    case State::kRerun:
      break;
  }
}

std::vector<std::string> TailHub::drainLocked() {
  std::vector<std::string> woken;
  if (inotifyFd_ < 0) return woken;
  alignas(inotify_event) char buf[16 * 1024];
  while (true) {
    ssize_t n = ::read(inotifyFd_, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if ((ev->mask & IN_Q_OVERFLOW) != 0) {
        // Events were dropped: a replacement may be among them (see createdCount()).
        for (auto& [path, c] : created_) c.count += 2;
        for (const auto& [dir, wd] : dirWatch_) woken.push_back(dir);
        continue;
      }
      auto w = wds_.find(ev->wd);
      if (w == wds_.end()) continue;  // a watch removed since
      const std::string& dir = w->second.first;
      woken.push_back(dir);
      if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) == 0 || ev->len == 0) continue;
      auto c = created_.find(dir + "/" + ev->name);
      if (c != created_.end()) ++c->second.count;
    }
  }
  std::sort(woken.begin(), woken.end());
  woken.erase(std::unique(woken.begin(), woken.end()), woken.end());
  return woken;
}

void TailHub::wakeDirs(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [h, e] : entries_) {
    if (std::binary_search(dirs.begin(), dirs.end(), e.dir)) scheduleLocked(h);
  }
}

std::optional<uint64_t> TailHub::createdCount(const std::string& path) {
  if (inotifyFd_ < 0) return std::nullopt;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::optional<uint64_t> count;
  std::vector<std::string> woken;
  {
    std::lock_guard<std::mutex> lock(watchMu_);
    woken = drainLocked();
    auto c = created_.find(path);
    if (c != created_.end() && dirWatch_.count(dir) != 0) count = c->second.count;
  }
  wakeDirs(woken);
  return count;
}

void TailHub::watch() {
  auto nextPoll = std::chrono::steady_clock::now() + options_.pollInterval;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    auto now = std::chrono::steady_clock::now();
    int timeout = static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(nextPoll - now).count()));
    pollfd fds[2] = {{inotifyFd_, POLLIN, 0}, {eventFd_, POLLIN, 0}};
    int r = ::poll(fds, 2, timeout);
    if (r < 0 && errno != EINTR) {
      // Should not happen; the periodic poll below still runs.
      std::this_thread::sleep_for(options_.pollInterval);
    }
    if (r > 0 && (fds[0].revents & POLLIN) != 0) {
      std::vector<std::string> woken;
      {
        std::lock_guard<std::mutex> lock(watchMu_);
        woken = drainLocked();
      }
      wakeDirs(woken);
    }
    if (std::chrono::steady_clock::now() >= nextPoll) {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [h, e] : entries_) scheduleLocked(h);
      nextPoll = std::chrono::steady_clock::now() + options_.pollInterval;
    }
  }
}

void TailHub::work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    uint64_t h = queue_.front();
    queue_.pop_front();
    auto it = entries_.find(h);
    if (it == entries_.end() || it->second.removed) continue;
    it->second.state = State::kRunning;
    it->second.runner = std::this_thread::get_id();
    Run run = it->second.run;
    ++runs_;
    lock.unlock();
    run();
    lock.lock();
    it = entries_.find(h);
    if (it == entries_.end()) continue;
    it->second.runner = {};
    if (it->second.removed) {
      if (it->second.eraseByRunner) {
        entries_.erase(it);  // remove() was called from inside the run
      } else {
        it->second.state = State::kIdle;  // the remover waits for this, then erases
      }
      idleCv_.notify_all();
      continue;
    }
    if (it->second.state == State::kRerun) {
      it->second.state = State::kQueued;
      queue_.push_back(h);
      cv_.notify_one();
    } else {
      it->second.state = State::kIdle;
    }
    idleCv_.notify_all();
  }
}

}  // namespace zc::logfile
