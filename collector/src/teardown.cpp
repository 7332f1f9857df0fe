#include "teardown.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace zc::collector {

using namespace std::chrono_literals;

Teardown::Teardown(TeardownRegistry& registry, plugin::Runtime* runtime, plugin::Router* router,
                   host::LiveBus& bus, std::chrono::seconds stopGrace)
    : registry_(registry), runtime_(runtime), router_(router), bus_(bus), stopGrace_(stopGrace),
      task_("teardown", 5s, [this] { pass(); }, PeriodicTask::FirstRun::kAfterInterval) {}

void Teardown::pass() {
  const std::vector<std::string> pending = registry_.pendingTeardowns();
  // What is kept per stop is dropped once that stop is no longer pending (it ended, or the
  // deployment was deployed again): a later stop starts afresh.
  std::erase_if(progress_, [&](const auto& p) {
    return std::find(pending.begin(), pending.end(), p.first) == pending.end();
  });
  for (const std::string& id : pending) {
    if (task_.stopping()) return;
    try {
      run(id);
    } catch (const std::exception& ex) {  // retried on the next pass
      spdlog::error("deployment {}: teardown: {}", id, ex.what());
    }
  }
}

// True while `id` is stopped: a deployment deployed again meanwhile is left alone.
bool Teardown::stillStopped(const std::string& id) const {
  std::optional<Deployment> row = registry_.row(id);
  return row && row->status == DeploymentStatus::kStopped;
}

void Teardown::run(const std::string& id) {
  std::optional<Deployment> row = registry_.row(id);
  if (!row || row->status != DeploymentStatus::kStopped) return;
  StopProgress& progress = progress_[id];
  bool containerLeft = false;
  if (!row->containerId.empty() && runtime_) {
    const std::string shortId = row->containerId.substr(0, 12);
    if (!progress.signalled) {  // sent again on the next pass when it failed
      Status s = runtime_->stopContainer(row->containerId, stopGrace_);
      if (s.isOk()) {
        progress.signalled = true;
      } else if (!std::exchange(progress.signalFailedSaid, true)) {
        registry_.systemLine(id, "[STOP] stop signal failed: " + s.toString());
      }
    }
    // The container goes only after its last lines are stored, however long storage refuses
    // them (disk full): until then it is looked at again on the next pass, or when its follow
    // ends (the registry wakes us).
    if (!registry_.logStored(id, row->containerId)) {
      spdlog::debug("deployment {}: teardown waits for the log of {}", id, shortId);
      return;
    }
    if (task_.stopping() || !stillStopped(id)) return;
    Status s = runtime_->removeContainer(row->containerId, true);
    if (!s.isOk()) {
      if (progress.removalAttempts++ == 0) {
        registry_.systemLine(id, "[STOP] container removal failed: " + s.toString());
      }
      // An unreachable engine is waited for (next pass in 5 s): the container still runs, so
      // nothing is released. Any other refusal is given up after three passes.
      bool transient = s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kTimeout;
      if (transient || progress.removalAttempts < 3) return;
      registry_.systemLine(id, "[STOP] giving up on removing container " + shortId +
                                   "; it is left in place");
      containerLeft = true;
    }
  }
  if (!stillStopped(id)) return;
  if (router_ == nullptr) {
    registry_.systemLine(id, "[STOP] no router configured; route left in place");
  } else {
    Status s = router_->removeRoute(id);
    if (!s.isOk()) registry_.systemLine(id, "[STOP] route removal failed: " + s.toString());
  }
  std::string port = row->hostPort ? " port " + std::to_string(*row->hostPort) + " released;" : "";
  progress_.erase(id);
  registry_.teardownDone(id, containerLeft,
                         "[STOP] teardown complete:" + port +
                             (containerLeft ? " container left in place" : " container removed"));
  bus_.publishEnd(id);
}

}  // namespace zc::collector
