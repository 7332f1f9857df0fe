#include "deployment_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <set>

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// Copies what the runtime knows into the stored row (metadata, container, port, times). Status
// transitions are decided by the caller. Returns true when something changed.
bool applyContainerInfo(Deployment& row, const plugin::ContainerInfo& c) {
  Deployment before = row;
  auto setIf = [](std::string& field, const std::string& value) {
    if (!value.empty()) field = value;
  };
  setIf(row.name, c.displayName.empty() ? c.name : c.displayName);
  setIf(row.slug, c.slug);
  setIf(row.entityType, c.entityType);
  setIf(row.publicUrl, c.publicUrl);
  setIf(row.registryUrl, c.registryUrl);
  setIf(row.entityId, c.entityId);
  setIf(row.publicKey, c.publicKey);
  if (row.status != DeploymentStatus::kStopped) {
    row.containerId = c.containerId;
    if (c.hostPort) row.hostPort = c.hostPort;
  }
  if (c.createdAt != 0) row.createdAt = c.createdAt;
  if (c.startedAt) row.startedAt = c.startedAt;
  return !(row == before);
}

std::string shortId(const std::string& containerId) { return containerId.substr(0, 12); }

// Connecting to the runtime and subscribing to its events.
constexpr RetryBackoff kConnectRetry{500ms, 30s};

int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

DeploymentManager::DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime,
                                     plugin::Router* router, host::LiveBus& bus, Clock& clock,
                                     LifecycleOptions options)
    : storage_(storage), runtime_(runtime), options_(options), registry_(storage, bus, clock),
      ingest_(counters_, clock),
      teardown_(*this, runtime, router, bus, options.stopGrace), worker_("pipeline worker") {
  runtimeDownSince_ = steadyNowNs();  // not connected until the first connection's reconcile
}

DeploymentManager::~DeploymentManager() { stop(); }

std::chrono::nanoseconds DeploymentManager::runtimeDisconnectedFor() const noexcept {
  if (runtime_ == nullptr || runtimeConnected_.load()) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(std::max<int64_t>(0, steadyNowNs() - runtimeDownSince_.load()));
}

Status DeploymentManager::start() {
  ZC_RETURN_IF_ERROR(registry_.load());
  if (runtime_) {
    worker_.post([this] { connect(kConnectRetry); });
    worker_.postAfter(options_.reconcileInterval, [this] { reconcileEvery(); });
  }
  worker_.postAfter(options_.forgetCheck, [this] { forgetExpiredEvery(); });
  worker_.start();
  teardown_.start();
  return Status::ok();
}

void DeploymentManager::stop() noexcept {
  ingest_.stop();  // a consume() waiting to retry a write gives up: its follow can be joined
  worker_.stop();
  teardown_.stop();
  // Shut down: events first (no new work), then every follow (joins their threads).
  if (events_) events_->stop();
  events_.reset();
  for (Entry* e : registry_.entries()) stopFollow(*e);
}

void DeploymentManager::onEvent(const plugin::RuntimeEvent& event) noexcept {
  try {
    worker_.post([this, event] { handle(event); });
  } catch (const std::exception& e) {
    spdlog::error("dropping runtime event: {}", e.what());
  }
}

void DeploymentManager::connect(RetryBackoff backoff) {
  auto retry = [&](const char* what, const Status& s) {
    spdlog::warn("runtime {}, retrying: {}", what, s.toString());
    auto delay = backoff.next();
    worker_.postAfter(delay, [this, backoff] { connect(backoff); });
  };
  Status s = runtime_->connect();
  if (!s.isOk()) return retry("not reachable", s);
  auto sub = runtime_->subscribeEvents(this);
  if (!sub.isOk()) return retry("event subscription failed", sub.status());
  events_ = std::move(sub).value();
}

template <typename Fn>
std::optional<Deployment> DeploymentManager::updateRow(Entry& e, Fn&& mutate, std::string systemLine) {
  auto row = registry_.update(e, std::forward<Fn>(mutate));
  if (row && !systemLine.empty()) appendOrRetrySystemLine(e, std::move(systemLine));
  return row;
}

void DeploymentManager::appendOrRetrySystemLine(Entry& e, std::string text) {
  spdlog::info("deployment {}: {}", e.row.id, text);
  Status a = e.seq->appendSystemLine(text);
  if (a.isOk()) return;
  spdlog::error("deployment {}: system line not stored yet, retrying: {}", e.row.id, a.toString());
  retrySystemLine(e.row.id, std::move(text), kSystemLineRetry);
}

void DeploymentManager::retrySystemLine(const std::string& id, std::string text,
                                        RetryBackoff backoff) {
  worker_.postAfter(backoff.next(), [this, id, text = std::move(text), backoff]() mutable {
    Entry* e = registry_.find(id);
    if (e == nullptr || e->seq->appendSystemLine(text).isOk()) return;
    retrySystemLine(id, std::move(text), backoff);
  });
}

void DeploymentManager::reconcileOrRetry() {
  // A failed reconcile (e.g. one inspect failing right after an engine restart) is retried:
  // deaths during the event gap are only found this way.
  if (!reconcile()) worker_.postAfter(2s, [this] { reconcileOrRetry(); });
}

void DeploymentManager::reconcileEvery() {
  // Not connected: the next connection reconciles anyway. A failed listing waits for the next
  // period (or the next connection).
  if (runtimeConnected_) (void)reconcile(true);
  worker_.postAfter(options_.reconcileInterval, [this] { reconcileEvery(); });
}

void DeploymentManager::handle(const plugin::RuntimeEvent& ev) {
  using T = plugin::RuntimeEventType;
  switch (ev.type) {
    case T::kConnected:
      counters_.engineConnects.fetch_add(1, std::memory_order_relaxed);
      reconcileOrRetry();
      runtimeConnected_ = true;
      return;
    case T::kDisconnected:
      // /healthz says so until the next connection's reconcile is done: a caller waiting for
      // "connected" after an engine restart must not be answered by the previous connection.
      if (runtimeConnected_.load()) runtimeDownSince_ = steadyNowNs();
      runtimeConnected_ = false;
      counters_.engineDisconnects.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("runtime event stream disconnected; the runtime reconnects");
      return;
    case T::kDestroy:
      claims_.release(ev.containerId);
      if (Entry* e = registry_.find(ev.deploymentId)) containerGone(*e, ev.containerId);
      return;
    case T::kOom:
      if (claims_.refused(ev.containerId)) return;  // not the deployment's container
      if (Entry* e = registry_.find(ev.deploymentId)) e->crash.noteOom(ev.containerId);
      return;
    case T::kCreate:
    case T::kStart:
    case T::kRestart:
    case T::kDie:
    case T::kStop: {
      auto info = runtime_->inspect(ev.containerId);
      if (!info.isOk()) {
        if (!info.status().isNotFound()) {
          spdlog::warn("inspect {} after event: {}", shortId(ev.containerId), info.status().toString());
        }
        return;
      }
      applyContainer(info.value(), &ev);
      return;
    }
  }
}

void DeploymentManager::followEnded(const std::string& id, const std::string& containerId,
                                    const Status& why) {
  Entry* e = registry_.find(id);
  if (e == nullptr || e->followContainer != containerId) return;  // already replaced
  if (!why.isOk() && why.code() != Status::Code::kAborted) {
    spdlog::warn("deployment {}: log follow of {} ended: {}", id, shortId(containerId),
                 why.toString());
  }
  // Read to its end: the run that was current when the follow began (a run that started after
  // that is read by a new follow).
  TimeNs run = e->followRun;
  stopFollow(*e);
  if (why.isOk()) e->drained[containerId] = run;
  auto info = runtime_->inspect(containerId);
  // The dead run's last lines are in: its pending crash can be written now. (A follow of an
  // earlier run, e.g. begun while the container was only created, does not count.)
  if (why.isOk() && e->crash.isRun(containerId, run)) {
    finalizeCrash(*e);
    if (e->crash.pending()) settleCrashes(*e);  // deaths after it, oldest first
  }
  // The container may have been restarted between the end of the stream and now.
  if (info.isOk()) applyContainer(info.value());
  // A stopped deployment's teardown waits for this log: it may go on now.
  bool stopped;
  {
    auto lock = registry_.lock();
    stopped = e->row.status == DeploymentStatus::kStopped;
  }
  if (stopped) teardown_.wake();
}

void DeploymentManager::crashDue(const std::string& id) {
  if (Entry* e = registry_.find(id)) settleCrashes(*e);
}

void DeploymentManager::settleCrashes(Entry& e) {
  std::string ranAgain;  // a container that runs again after a death recorded here
  while (const plugin::ContainerInfo* pc = e.crash.pending()) {
    bool readerOfDead = e.follow && e.followContainer == pc->containerId;
    // No follow reads the dead container and the run that died was not read to its end (e.g.
    // it died before its follow began): its lines are not in yet; a follow is started below.
    auto run = e.crash.pendingRun();
    auto drained = e.drained.find(pc->containerId);
    bool unread = !readerOfDead && run &&
                  (drained == e.drained.end() || drained->second != *run);
    if (!e.crash.ready(readerOfDead ? e.consumer.get() : nullptr, unread)) {
      worker_.postAfter(CrashTracker::kSettle, [this, id = e.row.id] { crashDue(id); });
      break;
    }
    if (pc->running) ranAgain = pc->containerId;
    finalizeCrash(e);
  }
  if (!ranAgain.empty() && !e.crash.pending()) {  // it runs again: the [RESTART] transition
    auto info = runtime_->inspect(ranAgain);
    if (info.isOk()) applyContainer(info.value());
  }
}

void DeploymentManager::removeDead(const std::string& id, const std::string& containerId) {
  Entry* e = registry_.find(id);
  if (e == nullptr || options_.keepCrashed) return;
  auto info = runtime_->inspect(containerId);
  if (!info.isOk() || info->running || info->restarting) return;  // gone already, or back
  if (!logStoredOnWorker(id, containerId)) {  // its log is still being read or stored
    worker_.postAfter(2s, [this, id, containerId] { removeDead(id, containerId); });
    return;
  }
  {
    auto lock = registry_.lock();
    if (info->finishedAt != e->row.lastCrashAt) return;  // died again since; that death decides
  }
  Status s = runtime_->removeContainer(containerId, false);
  if (!s.isOk()) {
    spdlog::warn("deployment {}: removing dead container: {}", id, s.toString());
    return;
  }
  updateRow(*e, [&](Deployment& row) {
    if (row.containerId != containerId) return;
    row.containerId.clear();
    row.hostPort.reset();  // the container held it
  }, "[CRASH] dead container " + shortId(containerId) + " removed");
}

bool DeploymentManager::reconcile(bool periodic) {
  auto list = runtime_->listDeployments();
  if (!list.isOk()) {
    spdlog::warn("reconcile: listing deployments failed, retrying: {}", list.status().toString());
    return false;
  }
  std::set<std::string> seen;
  for (const plugin::ContainerInfo& c : list.value()) seen.insert(c.containerId);
  // Who holds each deployment is decided over the whole listing first, so the listing's order
  // never lets a container that loses touch a row.
  claims_.retainOnly(seen);
  for (const plugin::ContainerInfo& c : list.value()) claims_.admit(c);
  for (const plugin::ContainerInfo& c : list.value()) applyContainer(c);
  sweepGone(seen);
  reconciled_ = true;
  spdlog::log(periodic ? spdlog::level::debug : spdlog::level::info,
              "reconciled {} deployment containers", list->size());
  forgetExpired();
  return true;
}

void DeploymentManager::applyContainer(const plugin::ContainerInfo& info,
                                       const plugin::RuntimeEvent* cause) {
  // A restart policy may have started the container again before we looked: inspect then shows
  // the new run, with ExitCode and OOMKilled reset. The die event carries the exit code of the
  // death itself; an oom event before it says it was an OOM kill. A death found only by a
  // reconcile of a container that already runs again has an unknown exit code.
  // Another container holds this deployment: not followed, no row change (claims.h).
  if (!claims_.admit(info)) return;
  plugin::ContainerInfo c = info;
  if (cause && cause->type == plugin::RuntimeEventType::kDie && cause->exitCode) {
    c.exitCode = cause->exitCode;
  } else if (c.running) {
    c.exitCode.reset();
  }
  auto entry = registry_.findOrCreate(c.deploymentId);
  if (!entry.isOk()) {
    spdlog::error("deployment {}: {}", c.deploymentId, entry.status().toString());
    return;
  }
  Entry& e = *entry.value();
  Deployment row;
  bool changed;
  {
    auto lock = registry_.lock();
    // A new container for a stopped deployment whose container is gone: it was deployed again.
    // A teardown still pending for the old run is dropped (the teardown checks the row before
    // each step): the route is the new run's now.
    if (e.row.status == DeploymentStatus::kStopped && e.row.containerId.empty() && c.running &&
        (!e.row.startedAt || (c.startedAt && *c.startedAt > *e.row.startedAt))) {
      e.row.status = DeploymentStatus::kRunning;
      e.teardownPending = false;
    }
    changed = applyContainerInfo(e.row, c);
    row = e.row;
  }
  if (changed) {
    Status s = storage_.putDeployment(row);
    if (!s.isOk()) spdlog::error("deployment {}: storing row: {}", row.id, s.toString());
  }
  // Follow the container unless this run of it was already read to its end.
  bool alreadyFollowing = e.follow && e.followContainer == c.containerId;
  auto drained = e.drained.find(c.containerId);
  bool readToEnd = !c.running && drained != e.drained.end() &&
                   drained->second == c.startedAt.value_or(0);
  if (!alreadyFollowing && !readToEnd) {
    if (e.follow) stopFollow(e);  // a replaced container
    startFollow(e, c);
  }
  bool stopping = row.status == DeploymentStatus::kStopped;
  // A death not yet recorded (events may have been missed: FinishedAt decides, exactly once);
  // a die event reports its own death with its own exit code (crash_tracker.h). The [CRASH]
  // lines wait, oldest first, until the follow has taken the dead run's last lines and the exit
  // code is known.
  bool dieEvent = cause && cause->type == plugin::RuntimeEventType::kDie;
  if (!stopping && (dieEvent ? e.crash.noteDie(info, cause->ts, cause->exitCode, row)
                             : e.crash.begin(c, row))) {
    // A follow still reading the container may not have its last lines yet, and a container
    // running again waits for the die event that tells the exit code: looked at after kSettle.
    bool following = e.follow && e.followContainer == c.containerId;
    if (following || (c.running && !c.exitCode)) {
      worker_.postAfter(CrashTracker::kSettle, [this, id = c.deploymentId] { crashDue(id); });
    } else {
      settleCrashes(e);
    }
  }
  // Back after a crash (restart policy).
  DeploymentStatus now;
  {
    auto lock = registry_.lock();
    now = e.row.status;
  }
  if (!stopping && c.running && !c.restarting && now == DeploymentStatus::kCrashed &&
      !e.crash.pending()) {
    std::string line = "[RESTART] container is running again (restart count " +
                       std::to_string(c.restartCount) + ")";
    updateRow(e, [](Deployment& r) {
      if (r.status != DeploymentStatus::kCrashed) return false;  // e.g. stopped meanwhile
      r.status = DeploymentStatus::kRunning;
      return true;
    }, std::move(line));
  }
}

void DeploymentManager::finalizeCrash(Entry& e) {
  CrashTracker::Crash crash = e.crash.take();
  auto row = updateRow(e, [&](Deployment& r) { return CrashTracker::record(r, crash); }, crash.line);
  if (!row) return;
  {
    auto lock = registry_.lock();
    ++e.crashes;
  }
  const plugin::ContainerInfo& c = crash.container;
  if (!c.running && !options_.keepCrashed && runtime_) {
    worker_.postAfter(options_.crashGrace, [this, id = c.deploymentId, cid = c.containerId] {
      removeDead(id, cid);
    });
  }
}

void DeploymentManager::startFollow(Entry& e, const plugin::ContainerInfo& c) {
  std::string cursor;
  auto stored = storage_.getCursor(c.deploymentId, c.containerId);
  if (stored.isOk()) {
    cursor = std::move(stored).value();
  } else if (!stored.status().isNotFound()) {
    spdlog::error("deployment {}: reading cursor: {}", c.deploymentId, stored.status().toString());
    return;
  }
  auto consumer = ingest_.consumer(
      e.seq, c.containerId, [this, id = c.deploymentId, cid = c.containerId](Status why) {
        worker_.post([this, id, cid, why = std::move(why)] { followEnded(id, cid, why); });
      });
  auto sub = runtime_->followLogs(c, cursor, consumer.get());
  if (!sub.isOk()) {
    spdlog::warn("deployment {}: cannot follow {}: {}", c.deploymentId, shortId(c.containerId),
                 sub.status().toString());
    return;
  }
  e.consumer = std::move(consumer);
  e.follow = std::move(sub).value();
  e.followContainer = c.containerId;
  e.followRun = c.startedAt.value_or(0);
  activeFollows_.fetch_add(1);
  spdlog::info("deployment {}: following {} from {}", c.deploymentId, shortId(c.containerId),
               cursor.empty() ? "the start of its log" : "the stored cursor");
}

void DeploymentManager::stopFollow(Entry& e) {
  if (!e.follow) return;
  if (e.consumer) e.consumer->cancel();  // a consume() waiting for storage gives up
  e.follow->stop();                      // joins: no consume() runs after this
  e.follow.reset();
  e.consumer.reset();
  e.followContainer.clear();
  activeFollows_.fetch_sub(1);
}

// --- stop; the teardown itself runs on the Teardown's thread (teardown.cpp)

Result<Deployment> DeploymentManager::requestStop(const std::string& id,
                                                  const std::string& requestedBy) {
  Entry* e = registry_.find(id);
  if (e == nullptr) return Status::notFound("deployment '" + id + "' is unknown");
  Deployment current;
  bool gaveUp;
  {
    auto lock = registry_.lock();
    current = e->row;
    // A teardown that gave up (its container left in place) is tried again, from the start.
    gaveUp = e->teardownGaveUp;
    e->teardownGaveUp = false;
    if (current.status != DeploymentStatus::kStopped || gaveUp) {
      e->teardownPending = true;
      ++e->stopGeneration;
    }
  }
  if (current.status == DeploymentStatus::kStopped && gaveUp) {
    appendOrRetrySystemLine(*e, (requestedBy.empty() ? "[STOP] stop requested again"
                                                     : "[STOP] stop requested again by " +
                                                           requestedBy) +
                                    "; retrying the teardown");
  } else if (current.status != DeploymentStatus::kStopped) {
    const std::string line =
        requestedBy.empty() ? "[STOP] stop requested" : "[STOP] stop requested by " + requestedBy;
    auto updated =
        updateRow(*e, [](Deployment& r) { r.status = DeploymentStatus::kStopped; }, line);
    // No row stored: the deployment was forgotten (all its data expired) meanwhile.
    if (!updated) return Status::notFound("deployment '" + id + "' is unknown");
    current = std::move(*updated);
  }
  teardown_.wake();
  return current;
}

std::optional<Deployment> DeploymentManager::row(const std::string& id) const {
  auto r = get(id);
  if (!r.isOk()) return std::nullopt;
  return std::move(r).value();
}

bool DeploymentManager::logStored(const std::string& id, const std::string& containerId) {
  // Asked on the worker, which alone knows the follows; an answer that does not come in time
  // (a busy worker, or one stopped for shutdown) is "not yet".
  auto answer = std::make_shared<std::promise<bool>>();
  std::future<bool> result = answer->get_future();
  worker_.post([this, id, containerId, answer] {
    answer->set_value(logStoredOnWorker(id, containerId));
  });
  if (result.wait_for(5s) != std::future_status::ready) return false;
  try {
    return result.get();
  } catch (const std::future_error&) {  // dropped by a stopping worker, or the check threw
    return false;
  }
}

bool DeploymentManager::logStoredOnWorker(const std::string& id, const std::string& containerId) {
  Entry* e = registry_.find(id);
  if (e == nullptr) return true;
  if (e->follow && e->followContainer == containerId) return false;  // still reading
  auto info = runtime_->inspect(containerId);
  if (info.status().isNotFound()) return true;  // nothing left to read
  if (!info.isOk() || info->running || info->restarting) return false;
  // Read to its end (the follow ended cleanly after every chunk of this run was stored).
  auto drained = e->drained.find(containerId);
  if (drained != e->drained.end() && drained->second == info->startedAt.value_or(0)) return true;
  // No follow reads it (e.g. the last one ended with an error): start one from the cursor.
  applyContainer(info.value());
  return false;
}

void DeploymentManager::systemLine(const std::string& id, std::string text) {
  if (Entry* e = registry_.find(id)) appendOrRetrySystemLine(*e, std::move(text));
}

void DeploymentManager::teardownDone(const std::string& id, bool containerLeft, std::string line) {
  Entry* e = registry_.find(id);
  if (e == nullptr) return;
  uint64_t generation;
  {
    auto lock = registry_.lock();
    if (e->row.status != DeploymentStatus::kStopped) return;  // deployed again meanwhile
    e->teardownGaveUp = containerLeft;
    generation = e->stopGeneration;
  }
  updateRow(*e, [&](Deployment& r) {
    if (r.status != DeploymentStatus::kStopped) return false;
    if (!containerLeft) r.containerId.clear();
    r.hostPort.reset();
    return true;
  }, std::move(line));
  // Complete once its line is there (or retried): whoever sees it complete can read the line.
  // A stop requested meanwhile (retrying a teardown that gave up) keeps it pending.
  auto lock = registry_.lock();
  if (e->stopGeneration == generation) e->teardownPending = false;
}

// --- health and samples

void DeploymentManager::recordHealthResult(const std::string& id, bool ok) {
  Entry* e = registry_.find(id);
  if (e == nullptr) return;
  std::optional<DeploymentStatus> next;
  std::string line;
  std::string containerId;
  {
    auto lock = registry_.lock();
    containerId = e->row.containerId;
    DeploymentStatus st = e->row.status;
    if (st != DeploymentStatus::kRunning && st != DeploymentStatus::kUnhealthy) {
      e->healthFailures = 0;
      return;
    }
    if (ok) {
      e->healthFailures = 0;
      if (st == DeploymentStatus::kUnhealthy) {
        next = DeploymentStatus::kRunning;
        line = "[RECOVERED] health probe succeeded";
      }
    } else if (++e->healthFailures >= options_.healthFailures && st == DeploymentStatus::kRunning) {
      next = DeploymentStatus::kUnhealthy;
      line = "[UNHEALTHY] health probe failed " + std::to_string(options_.healthFailures) + " times";
    }
  }
  if (!next) return;
  // Probes of a container that died or was removed fail too: that is a crash or a container
  // gone, which its events settle, not an unhealthy agent.
  if (*next == DeploymentStatus::kUnhealthy && runtime_ != nullptr) {
    auto info = runtime_->inspect(containerId);
    if (info.status().isNotFound() || (info.isOk() && (!info->running || info->restarting))) return;
  }
  DeploymentStatus expected = *next == DeploymentStatus::kRunning ? DeploymentStatus::kUnhealthy
                                                                  : DeploymentStatus::kRunning;
  updateRow(*e, [&](Deployment& r) {
    if (r.status != expected) return false;  // changed meanwhile (stopped, crashed)
    r.status = *next;
    return true;
  }, std::move(line));
}

Status DeploymentManager::appendSystemLine(const std::string& id, std::string text) {
  Entry* e = registry_.find(id);
  if (e == nullptr) return Status::notFound("deployment '" + id + "' is unknown");
  return e->seq->appendSystemLine(std::move(text));
}

}  // namespace zc::collector
