// DeploymentManager: containers that are gone, and deployments that are over.
//
// A container is gone when the runtime says so: its destroy event, or a reconcile that does not
// list it and an inspect that answers NotFound (a listing alone is not trusted: it may leave out a
// container it could not inspect). Everything here runs on the manager's worker.
#include <spdlog/spdlog.h>

#include <limits>

#include "deployment_manager.h"

namespace zc::collector {
namespace {

constexpr const char* kGoneLine = "[GONE] container removed outside the collector";

}  // namespace

void DeploymentManager::containerGone(Entry& e, const std::string& containerId) {
  if (e.follow && e.followContainer == containerId) stopFollow(e);
  e.drained.erase(containerId);
  // A death of it still waiting for its last lines: its follow is over, what it read is all
  // there is. Recorded before the row says the container is gone.
  while (e.crash.pending() && e.crash.pending()->containerId == containerId) finalizeCrash(e);
  e.crash.forgetContainer(containerId);
  bool gone = false;
  registry_.update(e, [&](Deployment& row) {
    // Another container of the deployment (an older one), or cleared already (the collector
    // removed it).
    if (row.containerId != containerId) return false;
    row.containerId.clear();
    // Stopped: the teardown removed it, or will find it gone; it releases the port and says so.
    if (row.status == DeploymentStatus::kStopped) return true;
    row.status = DeploymentStatus::kStopped;
    row.hostPort.reset();
    gone = true;
    return true;
  });
  if (gone) appendOrRetrySystemLine(e, kGoneLine);
}

void DeploymentManager::sweepGone(const std::set<std::string>& present) {
  std::set<std::string> exists = present;
  for (Entry* e : registry_.entries()) {
    if (e->follow && !present.count(e->followContainer)) stopFollow(*e);
    Deployment row;
    {
      auto lock = registry_.lock();
      row = e->row;
    }
    if (!row.containerId.empty() && !present.count(row.containerId)) {
      auto info = runtime_->inspect(row.containerId);
      if (info.isOk()) {
        exists.insert(row.containerId);
        applyContainer(info.value());
      } else if (info.status().isNotFound()) {
        containerGone(*e, row.containerId);
      } else {
        spdlog::warn("deployment {}: inspect {}: {}", row.id, row.containerId.substr(0, 12),
                     info.status().toString());
        exists.insert(row.containerId);  // unknown: nothing is dropped
      }
    } else if (row.containerId.empty() && row.status != DeploymentStatus::kStopped &&
               row.status != DeploymentStatus::kCrashed) {
      // Says it runs but names no container (a row an older collector left when its container
      // was removed): the same as gone.
      containerGone(*e, row.containerId);
    } else if (row.containerId.empty() && row.status == DeploymentStatus::kCrashed &&
               row.hostPort) {
      // Its dead container was removed: the port it held is free.
      registry_.update(*e, [](Deployment& r) {
        if (!r.containerId.empty() || r.status != DeploymentStatus::kCrashed) return false;
        r.hostPort.reset();
        return true;
      });
    }
  }
  // What is remembered per container, for the containers that exist.
  for (Entry* e : registry_.entries()) {
    std::erase_if(e->drained, [&](const auto& d) { return !exists.count(d.first); });
    e->crash.keepOnly(exists);
  }
}

void DeploymentManager::forgetExpired() {
  for (Entry* e : registry_.entries()) {
    Deployment row;
    bool gaveUp;
    bool teardownPending;
    {
      auto lock = registry_.lock();
      row = e->row;
      gaveUp = e->teardownGaveUp;
      teardownPending = e->teardownPending;
    }
    bool over = (row.status == DeploymentStatus::kStopped ||
                 row.status == DeploymentStatus::kCrashed) &&
                row.containerId.empty() && !row.hostPort && !gaveUp && !teardownPending &&
                !e->follow && !e->crash.pending();
    if (!over) continue;
    // Reads skip expired data: nothing returned means nothing is left to show.
    auto logs = storage_.readLogs(row.id, 0, 1);
    if (!logs.isOk() || !logs->lines.empty()) continue;
    auto samples = storage_.readMetrics(row.id, 0, std::numeric_limits<TimeNs>::max());
    if (!samples.isOk() || !samples->empty()) continue;
    registry_.forget(row.id);
    Status s = storage_.deleteDeployment(row.id);
    if (s.isOk()) {
      spdlog::info("deployment {}: forgotten (no container, all its data expired)", row.id);
    } else {
      spdlog::error("deployment {}: deleting its stored data: {}", row.id, s.toString());
    }
  }
}

void DeploymentManager::forgetExpiredEvery() {
  forgetExpired();
  worker_.postAfter(options_.forgetCheck, [this] { forgetExpiredEvery(); });
}

}  // namespace zc::collector
