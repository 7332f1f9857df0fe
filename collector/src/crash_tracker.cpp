#include "crash_tracker.h"

#include <algorithm>

namespace zc::collector {

void CrashTracker::forgetContainer(const std::string& containerId) {
  oomSeen_.erase(containerId);
  lastDie_.erase(containerId);
}

void CrashTracker::keepOnly(const std::set<std::string>& present) {
  std::erase_if(oomSeen_, [&](const std::string& id) { return !present.count(id); });
  std::erase_if(lastDie_, [&](const auto& d) { return !present.count(d.first); });
}

TimeNs CrashTracker::newestKnown(const Deployment& row) const {
  TimeNs newest = row.lastCrashAt.value_or(0);
  for (const Pending& p : pending_) newest = std::max(newest, p.death.finishedAt.value_or(0));
  return newest;
}

void CrashTracker::add(plugin::ContainerInfo death, bool runKnown) {
  death.oomKilled = death.oomKilled || oomSeen_.erase(death.containerId) > 0;
  Pending p{std::move(death), runKnown, std::chrono::steady_clock::now()};
  // In the order of the deaths (a die event may report one older than a death an inspect found).
  auto at = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& q) {
    return q.death.finishedAt.value_or(0) > p.death.finishedAt.value_or(0);
  });
  pending_.insert(at, std::move(p));
}

bool CrashTracker::begin(const plugin::ContainerInfo& c, const Deployment& row) {
  if (!c.finishedAt || *c.finishedAt <= newestKnown(row)) return false;
  plugin::ContainerInfo death = c;
  // Running again: the run that died is not the one inspect shows, nor is its exit code.
  if (c.running) death.exitCode.reset();
  add(std::move(death), !c.running);
  return true;
}

bool CrashTracker::noteDie(const plugin::ContainerInfo& c, TimeNs eventTs,
                           std::optional<int> exitCode, const Deployment& row) {
  auto prev = lastDie_.find(c.containerId);
  TimeNs after = prev != lastDie_.end() ? prev->second
                                        : eventTs - std::chrono::nanoseconds(kFirstDieWindow).count();
  lastDie_[c.containerId] = std::max(eventTs, prev != lastDie_.end() ? prev->second : 0);
  auto completes = [&](Pending& p) {
    if (!p.death.exitCode) p.death.exitCode = exitCode;
  };
  if (c.finishedAt && *c.finishedAt <= eventTs) {
    // The inspect still shows the death this event reports: its FinishedAt is exact.
    TimeNs at = *c.finishedAt;
    for (Pending& p : pending_) {
      if (p.death.containerId == c.containerId && p.death.finishedAt == at) completes(p);
    }
    if (at <= newestKnown(row)) return false;
    plugin::ContainerInfo death = c;
    death.exitCode = exitCode ? exitCode : (c.running ? std::nullopt : c.exitCode);
    add(std::move(death), !c.running);
    return true;
  }
  // It died again since: the death reported here is the one in (after, eventTs].
  for (Pending& p : pending_) {
    TimeNs at = p.death.finishedAt.value_or(0);
    if (p.death.containerId == c.containerId && at > after && at <= eventTs) {
      completes(p);
      return false;
    }
  }
  if (row.lastCrashAt && *row.lastCrashAt > after) return false;  // on record already
  plugin::ContainerInfo death = c;
  death.finishedAt = eventTs;
  death.exitCode = exitCode;
  death.running = true;  // it ran again after this death
  death.oomKilled = false;
  add(std::move(death), false);
  return true;
}

bool CrashTracker::isRun(const std::string& containerId, TimeNs startedAt) const {
  if (pending_.empty() || startedAt == 0) return false;
  const Pending& p = pending_.front();
  if (p.death.containerId != containerId) return false;
  // A run's follow ended: the oldest death at or after that run's start is this run's.
  return p.runKnown ? p.death.startedAt.value_or(0) == startedAt
                    : p.death.finishedAt.value_or(0) >= startedAt;
}

std::optional<TimeNs> CrashTracker::pendingRun() const {
  if (pending_.empty() || !pending_.front().runKnown) return std::nullopt;
  return pending_.front().death.startedAt.value_or(0);
}

bool CrashTracker::ready(const FollowConsumer* reader, bool unread) const {
  const Pending& p = pending_.front();
  auto waited = std::chrono::steady_clock::now() - p.since;
  // A follow spanning a restart never ends: a line stamped at or after the death, or a while
  // without any, says the dead run's lines are in. A follow that ended has read it all.
  // The quiet second counts from when the death was seen, not from the last commit: a run that
  // printed its last lines just before it died after a long silence has them still on the way.
  bool linesIn = reader == nullptr
                     ? !unread
                     : reader->committedTs() >= p.death.finishedAt.value_or(0) ||
                           std::min<std::chrono::steady_clock::duration>(reader->idleFor(), waited) >=
                               std::chrono::seconds(1);
  bool exitKnown = p.death.exitCode.has_value() || waited >= kSettle;
  return (linesIn && exitKnown) || waited >= kMaxWait;
}

CrashTracker::Crash CrashTracker::take() {
  Crash crash;
  crash.container = std::move(pending_.front().death);
  pending_.pop_front();
  crash.exitCode = crash.container.exitCode.value_or(-1);
  bool oomEvent = oomSeen_.erase(crash.container.containerId) > 0;
  crash.oom = crash.container.oomKilled || oomEvent;
  crash.line = "[CRASH] exit=" + std::to_string(crash.exitCode) +
               " oom=" + (crash.oom ? "true" : "false");
  return crash;
}

bool CrashTracker::record(Deployment& row, const Crash& crash) {
  const auto& finishedAt = crash.container.finishedAt;
  if (row.status == DeploymentStatus::kStopped || (row.lastCrashAt && *finishedAt <= *row.lastCrashAt)) {
    return false;
  }
  row.lastExitCode = crash.exitCode;
  row.lastCrashAt = finishedAt;
  // Also when it already runs again (a fast restart policy): the [RESTART] line follows.
  row.status = DeploymentStatus::kCrashed;
  return true;
}

}  // namespace zc::collector
