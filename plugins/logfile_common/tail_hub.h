// TailHub: the wake-ups and the threads of every followed log file, shared by all follows.
//
// One inotify descriptor watches the directory of each followed file (a write, a rename, a new
// file: IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE) on one
// watcher thread, which also wakes every follow each `pollInterval` (the fallback when inotify
// misses something or is unavailable: overlay and network file systems, the watch limit). A
// woken follow is run on a small fixed pool of workers (`workers`), never on the watcher, and
// never on two workers at once; a wake-up during a run runs it once more afterwards. So 200
// followed containers cost 200 watches (one per directory) and 1 + `workers` threads.
//
// A follow's run may block (its consumer stores the lines): while it does it holds one worker;
// the others go on with the other follows.
//
// The same watch counts, per followed path, the files created at that name (IN_CREATE, and
// IN_MOVED_TO: a file renamed over it), so that a follow can tell how many times the file at
// the path was replaced between two of its looks (createdCount()).
//
// Thread-safety: every method may be called from any thread, and from inside a run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace zc::logfile {

class TailHub {
 public:
  struct Options {
    size_t workers = 4;
    std::chrono::milliseconds pollInterval{1000};
  };
  // Starts the watcher and the workers.
  explicit TailHub(Options options);
  // Stops and joins every thread. Every handle must have been removed before.
  ~TailHub();
  TailHub(const TailHub&) = delete;
  TailHub& operator=(const TailHub&) = delete;

  // A follow: run() reads what there is and returns; the hub calls it on a worker after a
  // wake-up (inotify, the poll, wake()).
  using Run = std::function<void()>;
  // Registers a follow of the file at `path` (its directory is watched). Returns its handle.
  // Nothing runs until the first wake-up (call wake() to run it at once).
  uint64_t add(const std::string& path, Run run);
  // Unregisters; waits until a run of it in progress ends (unless called from that run). After
  // it returns the run is never called again.
  void remove(uint64_t handle);
  // Schedules a run of `handle` (e.g. it stopped at its read budget and has more to read).
  void wake(uint64_t handle);

  // How many files were created at `path` (IN_CREATE or IN_MOVED_TO of its name) since it was
  // first registered with add(), counting every event that happened before this call (the
  // events queued are read first). nullopt when unknown: the path is not registered, or its
  // folder has no inotify watch (the poll alone). An overflow of the inotify queue adds 2 to
  // every count: replacements may have gone unseen, and a follow comparing counts across it
  // reports a possible loss rather than none.
  std::optional<uint64_t> createdCount(const std::string& path);

  // Diagnostics and tests.
  size_t threads() const noexcept { return workers_.size() + 1; }
  bool inotifyActive() const noexcept { return inotifyFd_ >= 0; }
  uint64_t runs() const noexcept;

 private:
  enum class State { kIdle, kQueued, kRunning, kRerun };
  struct Entry {
    Run run;
    std::string dir;
    std::string path;
    State state = State::kIdle;
    std::thread::id runner;
    bool removed = false;
    bool eraseByRunner = false;
  };

  void watch();
  void work();
  void scheduleLocked(uint64_t handle);  // mu_ held
  // Reads every queued inotify event, counts the creations; returns the folders to wake.
  // watchMu_ held.
  std::vector<std::string> drainLocked();
  void wakeDirs(const std::vector<std::string>& dirs);  // takes mu_

  Options options_;
  int inotifyFd_ = -1;
  int eventFd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;      // workers: queue_ not empty or stopping_
  std::condition_variable idleCv_;  // remove(): a run ended
  std::map<uint64_t, Entry> entries_;
  std::deque<uint64_t> queue_;
  // The inotify watches and the creation counts, read by the watcher without mu_.
  // Lock order: mu_ before watchMu_ (never the other way).
  std::mutex watchMu_;
  std::map<std::string, int> dirWatch_;             // dir -> wd
  std::map<int, std::pair<std::string, int>> wds_;  // wd -> dir, users
  struct Created {
    uint64_t count = 0;
    int users = 0;
  };
  std::map<std::string, Created> created_;  // followed path -> files created there
  uint64_t next_ = 1;
  uint64_t runs_ = 0;
  bool stopping_ = false;
  std::thread watcher_;
  std::vector<std::thread> workers_;
};

}  // namespace zc::logfile
