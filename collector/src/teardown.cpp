#include "teardown.h"

#include <spdlog/spdlog.h>

namespace zc::collector {

using namespace std::chrono_literals;

Teardown::Teardown(TeardownRegistry& registry, plugin::Runtime* runtime, plugin::Router* router,
                   host::LiveBus& bus, std::chrono::seconds stopGrace)
    : registry_(registry), runtime_(runtime), router_(router), bus_(bus), stopGrace_(stopGrace),
      task_("teardown", 5s, [this] { pass(); }, PeriodicTask::FirstRun::kAfterInterval) {}

void Teardown::pass() {
  for (const std::string& id : registry_.pendingTeardowns()) {
    if (task_.stopping()) return;
    try {
      run(id);
    } catch (const std::exception& ex) {  // retried on the next pass
      spdlog::error("deployment {}: teardown: {}", id, ex.what());
    }
  }
}

void Teardown::run(const std::string& id) {
  std::optional<Deployment> row = registry_.row(id);
  if (!row) return;
  int& attempts = attempts_[id];
  bool containerLeft = false;
  if (!row->containerId.empty() && runtime_) {
    const std::string shortId = row->containerId.substr(0, 12);
    Status s = runtime_->stopContainer(row->containerId, stopGrace_);
    if (!s.isOk() && attempts == 0) {
      registry_.systemLine(id, "[STOP] stop signal failed: " + s.toString());
    }
    // Let the follow take the last lines the agent printed before the container goes.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (registry_.following(id) && std::chrono::steady_clock::now() < deadline) {
      if (!task_.pause(50ms)) return;
    }
    s = runtime_->removeContainer(row->containerId, true);
    if (!s.isOk()) {
      if (attempts++ == 0) {
        registry_.systemLine(id, "[STOP] container removal failed: " + s.toString());
      }
      // An unreachable engine is waited for (next pass in 5 s): the container still runs, so
      // nothing is released. Any other refusal is given up after three passes.
      bool transient = s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kTimeout;
      if (transient || attempts < 3) return;
      registry_.systemLine(id, "[STOP] giving up on removing container " + shortId +
                                   "; it is left in place");
      containerLeft = true;
    }
  }
  if (router_ == nullptr) {
    registry_.systemLine(id, "[STOP] no router configured; route left in place");
  } else {
    Status s = router_->removeRoute(id);
    if (!s.isOk()) registry_.systemLine(id, "[STOP] route removal failed: " + s.toString());
  }
  std::string port = row->hostPort ? " port " + std::to_string(*row->hostPort) + " released;" : "";
  attempts_.erase(id);
  registry_.teardownDone(id, containerLeft,
                         "[STOP] teardown complete:" + port +
                             (containerLeft ? " container left in place" : " container removed"));
  bus_.publishEnd(id);
}

}  // namespace zc::collector
