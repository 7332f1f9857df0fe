// Resource readings of Podman containers: libpod's one-shot stats and the container's cgroup.
//
// GET /libpod/containers/stats?containers=<id>&stream=false gives one sample per container:
// CPUNano (CPU time used, ns), SystemNano (the wall clock of the sample, ns), MemUsage (bytes,
// page cache included) and MemLimit. CPU % (100 = one core) comes from two samples kept by the
// caller: dCPUNano / dSystemNano * 100.
//
// Memory as `docker stats` shows it is usage minus the inactive file cache, which libpod does not
// give: it is read from the container's cgroup (cgroup v1: <root>/memory<CgroupPath>/memory.stat
// `total_inactive_file`; v2: <root><CgroupPath>/memory.stat `inactive_file`). The kernel's OOM
// kills of the cgroup: v1 memory.oom_control `oom_kill`, v2 memory.events `oom_kill`. Both need
// the cgroup to exist: once the container has exited Podman removes it, and these say unknown.
//
// Thread-safety: pure functions (the cgroup ones read files).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

#include "zc/status.h"

namespace zc::podman {

struct LibpodStats {
  uint64_t cpuNano = 0;
  uint64_t systemNano = 0;
  double memUsage = 0;
  double memLimit = 0;
};

// The first (only) entry of a libpod stats answer. NotFound when it holds none (the container
// is not running), Corruption for anything malformed.
Result<LibpodStats> parseLibpodStats(const Poco::JSON::Object::Ptr& answer);

// 0 unless both deltas are positive.
double cpuPercent(const LibpodStats& prev, const LibpodStats& cur) noexcept;

// Whether `cgroupPath` (libpod inspect State.CgroupPath) is an absolute path without `..`.
bool isSafeCgroupPath(std::string_view cgroupPath) noexcept;

// The folder of the container's memory cgroup under `root` (v1 layout when <root>/memory is a
// folder, else v2), or nullopt when it does not exist (container exited) or the path is unsafe.
std::optional<std::string> memoryCgroupDir(const std::string& root, std::string_view cgroupPath);

// `total_inactive_file` (v1) or `inactive_file` (v2) of <dir>/memory.stat; nullopt when
// unreadable.
std::optional<uint64_t> readInactiveFile(const std::string& dir);

// The oom_kill counter of the cgroup (v1 memory.oom_control, v2 memory.events); nullopt when
// unreadable (an older kernel's v1 has no such line).
std::optional<uint64_t> readOomKills(const std::string& dir);

// A reading of a container cgroup's oom_kill counter: the cgroup folder's inode (Podman makes a
// new folder for each run of the container and removes it when the run ends, and a new one counts
// from 0) and the counter. nullopt when the folder or the counter cannot be read.
struct OomReading {
  uint64_t cgroupIno = 0;
  uint64_t kills = 0;
};
std::optional<OomReading> readOomReading(const std::string& dir);

// OOM kills per run of one container, from the readings taken at its stats samples and when it
// died. Not thread-safe (the runtime keeps one per container under its lock).
class OomRunTracker {
 public:
  // A reading taken while the container ran (or as it died). A folder other than the last
  // reading's belongs to a newer run: its count is this run's.
  void reading(const OomReading& r) noexcept;
  // The current run ended (died; `dieTs` the event's time). true: an OOM kill was seen in that
  // run; the verdict stays as lastRunKilled() until the next run ends. The same die again (the
  // event sent twice, or seen again after a reconnect) changes nothing and returns false.
  bool runEnded(int64_t dieTs) noexcept;
  // Whether an OOM kill was seen in the run that ended last.
  bool lastRunKilled() const noexcept { return lastRunKilled_; }
  // Whether an OOM kill was seen in the current run (its end not yet told by runEnded()).
  bool killedThisRun() const noexcept { return killedThisRun_; }

 private:
  uint64_t cgroupIno_ = 0;     // the folder of the last reading (0: none yet)
  uint64_t kills_ = 0;         // its counter then
  bool killedThisRun_ = false;
  bool lastRunKilled_ = false;
  int64_t lastDieTs_ = -1;
};

// The value of `key` in a "key value\n" file's text (memory.stat, memory.oom_control).
std::optional<uint64_t> findKeyedValue(std::string_view text, std::string_view key);

}  // namespace zc::podman
