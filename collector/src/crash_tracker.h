// CrashTracker: the crash state machine of one deployment.
//
// Each death of a container is recorded once, with its own exit code, in the order they
// happened, whether an event or a reconcile found it. A death is known by its time: the
// container's FinishedAt when the inspect that found it still showed that death, else the time
// of the die event that reported it (the container had already run and died again). One die
// event reports the one death between the previous die event of that container and itself, so a
// crash loop whose deaths arrive faster than they are looked at never merges two deaths (the
// first one's exit code with the last one's time). Deaths found first by an inspect (a reconcile
// or a follow's end) wait for their die event when the container already runs again (the
// inspect no longer shows the exit code).
//
// Between being seen and being recorded, deaths are pending, oldest first; the oldest one's
// `[CRASH] exit=<code> oom=<true|false>` line waits until the follow of the dead run has
// committed the run's last lines (a line stamped at or after the death, 1 s without a commit since the death was seen, or
// the follow's end) and until its exit code is known; never longer than kMaxWait. An oom event
// is remembered until the death it explains. The tracker only decides; the DeploymentManager
// writes the row and the line and schedules the checks. What it remembers per container is
// dropped when the container is gone (forgetContainer, keepOnly), so it stays as small as the
// deployment's live containers.
//
// Thread-safety: none; one tracker per deployment, used on the lifecycle worker only.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "ingest.h"
#include "zc/model.h"
#include "zc/plugin/runtime.h"

namespace zc::collector {

class CrashTracker {
 public:
  // How long a pending crash waits before it is checked again (the die event and the end of the
  // log stream race), and the longest it waits for a dead container's log (a huge backlog).
  static constexpr std::chrono::milliseconds kSettle{500};
  static constexpr std::chrono::seconds kMaxWait{30};
  // The first die event seen of a container (no earlier one to bound it) reports a death at
  // most this long before it.
  static constexpr std::chrono::seconds kFirstDieWindow{2};

  // A death ready to be recorded.
  struct Crash {
    plugin::ContainerInfo container;  // finishedAt: the time of the death
    int exitCode = -1;                // -1: unknown (it ran again and no die event told it)
    bool oom = false;
    std::string line;                 // the [CRASH] system line
  };

  void noteOom(const std::string& containerId) { oomSeen_.insert(containerId); }
  // The container is gone: what was remembered of it is dropped. Its pending deaths are left
  // for the caller to settle.
  void forgetContainer(const std::string& containerId);
  // Drops what is remembered of every container not in `present` (after a full listing).
  void keepOnly(const std::set<std::string>& present);
  // A die event of `c.containerId` stamped `eventTs` with `exitCode`; `c` is the container as
  // inspected after the event. Completes the pending death it reports, or starts tracking it
  // when it is neither pending nor on record in `row`. True when it started one.
  bool noteDie(const plugin::ContainerInfo& c, TimeNs eventTs, std::optional<int> exitCode,
               const Deployment& row);
  // Starts tracking the death `c` shows (its FinishedAt) unless it is pending or on record in
  // `row`, or is older than one that is. True when it did.
  bool begin(const plugin::ContainerInfo& c, const Deployment& row);

  // The oldest pending death, null when none.
  const plugin::ContainerInfo* pending() const noexcept {
    return pending_.empty() ? nullptr : &pending_.front().death;
  }
  // The oldest pending death is that of the run of `containerId` that started at `startedAt`
  // (a follow of that run has ended: its lines are all in).
  bool isRun(const std::string& containerId, TimeNs startedAt) const;
  // The start of the run the oldest pending death ended, when known.
  std::optional<TimeNs> pendingRun() const;
  // True when the oldest pending death may be recorded now. `reader`: the consumer of the
  // follow of the dead container, or null when none follows it; `unread`: none follows it and
  // its run was not read to its end (its lines are not in yet).
  bool ready(const FollowConsumer* reader, bool unread = false) const;

  // Ends the oldest pending death (there must be one) and returns it.
  Crash take();
  // Records `crash` in the row unless it is being stopped or the death (or a later one) is
  // already recorded; false when it declined.
  static bool record(Deployment& row, const Crash& crash);

 private:
  struct Pending {
    plugin::ContainerInfo death;  // finishedAt = the death's time; exitCode as known
    bool runKnown = false;        // death.startedAt is the start of the run that died
    std::chrono::steady_clock::time_point since;
  };
  // The newest death time pending or on record.
  TimeNs newestKnown(const Deployment& row) const;
  void add(plugin::ContainerInfo death, bool runKnown);

  std::deque<Pending> pending_;                // oldest first
  std::map<std::string, TimeNs> lastDie_;      // per container: the last die event's time
  std::set<std::string> oomSeen_;  // containers with an oom event not yet matched to a death
};

}  // namespace zc::collector
