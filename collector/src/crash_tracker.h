// CrashTracker: the crash state machine of one deployment.
//
// A death is a container's FinishedAt newer than the row's lastCrashAt, so it is recorded once
// whether an event or a reconcile found it. Between being seen and being recorded it is pending:
// its `[CRASH] exit=<code> oom=<true|false>` line waits until the follow of the dead run has
// committed the run's last lines (a line stamped at or after the death, 1 s without a commit, or
// the follow's end) and, when the container already runs again, for the die event that tells the
// exit code; never longer than kMaxWait. An oom event is remembered until the death it explains.
// The tracker only decides; the DeploymentManager writes the row and the line and schedules the
// checks. What it remembers per container is dropped when the container is gone (forgetContainer,
// keepOnly), so it stays as small as the deployment's live containers.
//
// Thread-safety: none; one tracker per deployment, used on the lifecycle worker only.
#pragma once

#include <chrono>
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

  // A death ready to be recorded.
  struct Crash {
    plugin::ContainerInfo container;  // as it was when the death was seen
    int exitCode = -1;                // -1: unknown (it ran again before the die event)
    bool oom = false;
    std::string line;                 // the [CRASH] system line
  };

  void noteOom(const std::string& containerId) { oomSeen_.insert(containerId); }
  // The container is gone: what was remembered of it (an oom event) is dropped. A pending death
  // of it is left for the caller to settle.
  void forgetContainer(const std::string& containerId) { oomSeen_.erase(containerId); }
  // Drops what is remembered of every container not in `present` (after a full listing).
  void keepOnly(const std::set<std::string>& present);
  // `c` as inspected after its die event, with that event's exit code: completes a pending death
  // of the same container that still lacks one.
  void noteDie(const plugin::ContainerInfo& c);
  // Starts tracking the death in `c` unless one is pending or `row` already records it. True
  // when it did.
  bool begin(const plugin::ContainerInfo& c, const Deployment& row);

  const std::optional<plugin::ContainerInfo>& pending() const noexcept { return pending_; }
  // The pending death must be settled before `c` is applied (c is a newer state).
  bool supersededBy(const plugin::ContainerInfo& c) const;
  // The pending death is of this run (container and StartedAt) of a container.
  bool isRun(const std::string& containerId, TimeNs startedAt) const;
  // True when the pending death may be recorded now. `reader`: the consumer of the follow of
  // the dead container, or null when none follows it.
  bool ready(const FollowConsumer* reader) const;

  // Ends the pending death (there must be one) and returns it.
  Crash take();
  // Records `crash` in the row unless it is being stopped or the death is already recorded;
  // false when it declined.
  static bool record(Deployment& row, const Crash& crash);

 private:
  std::optional<plugin::ContainerInfo> pending_;
  std::chrono::steady_clock::time_point since_;
  std::set<std::string> oomSeen_;  // containers with an oom event not yet matched to a death
};

}  // namespace zc::collector
