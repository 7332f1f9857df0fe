#include "crash_tracker.h"

namespace zc::collector {

void CrashTracker::noteDie(const plugin::ContainerInfo& c) {
  if (pending_ && pending_->containerId == c.containerId && !pending_->exitCode) {
    pending_->exitCode = c.exitCode;
  }
}

void CrashTracker::keepOnly(const std::set<std::string>& present) {
  std::erase_if(oomSeen_, [&](const std::string& id) { return !present.count(id); });
}

bool CrashTracker::begin(const plugin::ContainerInfo& c, const Deployment& row) {
  if (pending_ || !c.finishedAt || (row.lastCrashAt && *c.finishedAt <= *row.lastCrashAt)) {
    return false;
  }
  pending_ = c;
  since_ = std::chrono::steady_clock::now();
  return true;
}

bool CrashTracker::supersededBy(const plugin::ContainerInfo& c) const {
  return pending_ && (c.running || c.containerId != pending_->containerId ||
                      c.finishedAt != pending_->finishedAt);
}

bool CrashTracker::isRun(const std::string& containerId, TimeNs startedAt) const {
  return pending_ && pending_->containerId == containerId &&
         pending_->startedAt.value_or(0) == startedAt;
}

bool CrashTracker::ready(const FollowConsumer* reader) const {
  auto waited = std::chrono::steady_clock::now() - since_;
  // A follow spanning a restart never ends: a line stamped at or after the death, or a while
  // without any, says the dead run's lines are in. A follow that ended has read it all.
  bool linesIn = reader == nullptr || reader->committedTs() >= pending_->finishedAt.value_or(0) ||
                 reader->idleFor() >= std::chrono::seconds(1);
  bool exitKnown = pending_->exitCode.has_value() || waited >= kSettle;
  return (linesIn && exitKnown) || waited >= kMaxWait;
}

CrashTracker::Crash CrashTracker::take() {
  Crash crash;
  crash.container = std::move(*pending_);
  pending_.reset();
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
