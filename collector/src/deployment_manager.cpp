#include "deployment_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace zc::collector {
namespace {

using namespace std::chrono_literals;

// How long a crash waits for the follow to deliver the container's last lines before the
// [CRASH] line is written (the die event and the end of the log stream race).
constexpr auto kCrashSettle = 500ms;
// The longest a crash waits for a dead container's log to be read (a huge backlog).
constexpr auto kCrashMaxWait = 30s;

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
  row.routeId = c.routeId.empty() ? row.id : c.routeId;
  if (row.status != DeploymentStatus::kStopped) {
    row.containerId = c.containerId;
    if (c.hostPort) row.hostPort = c.hostPort;
  }
  if (c.createdAt != 0) row.createdAt = c.createdAt;
  if (c.startedAt) row.startedAt = c.startedAt;
  return !(row == before);
}

std::string shortId(const std::string& containerId) { return containerId.substr(0, 12); }

}  // namespace

// Receives one container's log chunks on the runtime's follow thread and commits them.
class DeploymentManager::FollowConsumer final : public plugin::LogConsumer {
 public:
  FollowConsumer(DeploymentManager& owner, std::shared_ptr<Sequencer> seq, std::string containerId)
      : owner_(owner), seq_(std::move(seq)), containerId_(std::move(containerId)) {}

  bool consume(plugin::LogChunk&& chunk) noexcept override {
    try {
      return commitWithRetry(std::move(chunk));
    } catch (const std::exception& e) {  // bad_alloc: the chunk's cursor is not stored, so the
      spdlog::error("deployment {}: dropping a chunk to be re-read: {}", seq_->deploymentId(),
                    e.what());  // follow ends and is resumed from the stored cursor
      return false;
    }
  }

  void ended(Status why) noexcept override {
    try {
      owner_.enqueue(FollowEnded{seq_->deploymentId(), containerId_, std::move(why)});
    } catch (const std::exception& e) {
      spdlog::error("deployment {}: follow end lost: {}", seq_->deploymentId(), e.what());
    }
  }

  // Makes a consume() that waits for storage give up (the chunk is re-read from the cursor by
  // whichever follow comes next). Called before the follow is stopped and joined.
  void cancel() noexcept {
    {
      std::lock_guard lock(owner_.workMu_);
      cancelled_ = true;
    }
    owner_.workCv_.notify_all();
  }
  // The newest line timestamp committed, and how long ago the last commit was.
  TimeNs committedTs() const noexcept { return committedTs_.load(); }
  std::chrono::steady_clock::duration idleFor() const noexcept {
    return std::chrono::steady_clock::now() - lastCommit_.load();
  }

 private:
  bool commitWithRetry(plugin::LogChunk&& chunk) {
    std::vector<LogLine> lines;
    lines.reserve(chunk.lines.size());
    uint64_t bytes = 0;
    TimeNs newest = 0;
    for (plugin::RawLine& r : chunk.lines) {
      LogLine& l = lines.emplace_back();
      l.stream = r.stream;
      l.ts = r.ts;
      l.truncated = r.truncated;
      bytes += r.text.size();
      newest = std::max(newest, r.ts);
      l.text = std::move(r.text);
    }
    const size_t count = lines.size();
    std::optional<plugin::LogCursor> cursor(plugin::LogCursor{containerId_, std::move(chunk.cursor)});
    auto backoff = 50ms;
    auto lastReport = std::chrono::steady_clock::time_point{};
    for (;;) {
      Status s = seq_->commit(lines, cursor);
      if (s.isOk()) {
        auto& c = owner_.counters_;
        c.linesIngested.fetch_add(count, std::memory_order_relaxed);
        c.bytesIngested.fetch_add(bytes, std::memory_order_relaxed);
        c.batchesCommitted.fetch_add(1, std::memory_order_relaxed);
        if (newest != 0) {
          c.lastIngestLagNs.store(owner_.clock_.now() - newest, std::memory_order_relaxed);
          if (newest > committedTs_.load()) committedTs_.store(newest);
        }
        lastCommit_.store(std::chrono::steady_clock::now());
        return true;
      }
      owner_.counters_.commitFailures.fetch_add(1, std::memory_order_relaxed);
      auto now = std::chrono::steady_clock::now();
      if (now - lastReport > 30s) {
        spdlog::warn("deployment {}: cannot store {} lines, holding the follow and retrying: {}",
                     seq_->deploymentId(), count, s.toString());
        lastReport = now;
      }
      std::unique_lock lock(owner_.workMu_);
      if (owner_.workCv_.wait_for(lock, backoff, [&] { return owner_.stopping_ || cancelled_; })) {
        return false;
      }
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
    }
  }

  DeploymentManager& owner_;
  std::shared_ptr<Sequencer> seq_;
  const std::string containerId_;
  bool cancelled_ = false;  // guarded by owner_.workMu_
  std::atomic<TimeNs> committedTs_{0};
  std::atomic<std::chrono::steady_clock::time_point> lastCommit_{std::chrono::steady_clock::now()};
};

DeploymentManager::DeploymentManager(plugin::Storage& storage, plugin::Runtime* runtime,
                                     plugin::Router* router, host::LiveBus& bus, Clock& clock,
                                     LifecycleOptions options)
    : storage_(storage), runtime_(runtime), router_(router), bus_(bus), clock_(clock),
      options_(options) {}

DeploymentManager::~DeploymentManager() { stop(); }

Status DeploymentManager::start() {
  auto rows = storage_.listDeployments();
  if (!rows.isOk()) return rows.status().withContext("loading deployments");
  {
    std::lock_guard lock(mu_);
    for (Deployment& d : rows.value()) {
      auto e = std::make_unique<Entry>();
      e->seq = std::make_shared<Sequencer>(d.id, storage_, bus_, clock_);
      ZC_RETURN_IF_ERROR(e->seq->load().withContext("deployment " + d.id));
      e->row = std::move(d);
      std::string id = e->row.id;
      entries_.emplace(std::move(id), std::move(e));
    }
    spdlog::info("{} stored deployments loaded", entries_.size());
  }
  worker_ = std::thread([this] { workerLoop(); });
  drainer_ = std::thread([this] { drainLoop(); });
  return Status::ok();
}

void DeploymentManager::stop() noexcept {
  {
    std::lock_guard lock(workMu_);
    stopping_ = true;
  }
  workCv_.notify_all();
  drainCv_.notify_all();
  if (drainer_.joinable()) drainer_.join();
  if (worker_.joinable()) worker_.join();
}

void DeploymentManager::enqueue(Work w) {
  {
    std::lock_guard lock(workMu_);
    if (stopping_) return;
    work_.push_back(std::move(w));
  }
  workCv_.notify_all();
}

void DeploymentManager::schedule(std::chrono::milliseconds delay, Work w) {
  {
    std::lock_guard lock(workMu_);
    if (stopping_) return;
    timers_.emplace(std::chrono::steady_clock::now() + delay, std::move(w));
  }
  workCv_.notify_all();
}

void DeploymentManager::onEvent(const plugin::RuntimeEvent& event) noexcept {
  try {
    enqueue(event);
  } catch (const std::exception& e) {
    spdlog::error("dropping runtime event: {}", e.what());
  }
}

bool DeploymentManager::tryConnect() {
  Status s = runtime_->connect();
  if (!s.isOk()) {
    spdlog::warn("runtime not reachable, retrying: {}", s.toString());
    return false;
  }
  auto sub = runtime_->subscribeEvents(this);
  if (!sub.isOk()) {
    spdlog::warn("runtime event subscription failed, retrying: {}", sub.status().toString());
    return false;
  }
  events_ = std::move(sub).value();
  return true;
}

void DeploymentManager::workerLoop() {
  auto backoff = 500ms;
  auto nextConnect = std::chrono::steady_clock::now();
  for (;;) {
    if (runtime_ && !events_ && std::chrono::steady_clock::now() >= nextConnect) {
      if (!tryConnect()) {
        nextConnect = std::chrono::steady_clock::now() + backoff;
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
      }
    }
    Work item;
    {
      std::unique_lock lock(workMu_);
      auto wakeAt = std::chrono::steady_clock::now() + 1s;
      if (!timers_.empty()) wakeAt = std::min(wakeAt, timers_.begin()->first);
      workCv_.wait_until(lock, wakeAt, [&] {
        return stopping_ || !work_.empty() ||
               (!timers_.empty() && timers_.begin()->first <= std::chrono::steady_clock::now());
      });
      if (stopping_) break;
      if (!work_.empty()) {
        item = std::move(work_.front());
        work_.pop_front();
      } else if (!timers_.empty() && timers_.begin()->first <= std::chrono::steady_clock::now()) {
        item = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
      } else {
        continue;
      }
    }
    try {
      std::visit([this](const auto& w) { handle(w); }, item);
    } catch (const std::exception& e) {
      spdlog::error("pipeline worker: {}", e.what());
    }
  }
  // Shut down: events first (no new work), then every follow (joins their threads).
  if (events_) events_->stop();
  events_.reset();
  std::vector<Entry*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) all.push_back(e.get());
  }
  for (Entry* e : all) stopFollow(*e);
}

DeploymentManager::Entry* DeploymentManager::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second.get();
}

template <typename Fn>
std::optional<Deployment> DeploymentManager::updateRow(Entry& e, Fn&& mutate, std::string systemLine) {
  Deployment row;
  DeploymentStatus before;
  {
    std::lock_guard lock(mu_);
    before = e.row.status;
    if constexpr (std::is_void_v<std::invoke_result_t<Fn, Deployment&>>) {
      mutate(e.row);
    } else {
      if (!mutate(e.row)) return std::nullopt;
    }
    if (e.row.status != before) e.healthFailures = 0;  // each status starts its own count
    row = e.row;
  }
  Status s = storage_.putDeployment(row);
  if (!s.isOk()) spdlog::error("deployment {}: storing row: {}", row.id, s.toString());
  if (row.status != before) bus_.publishStatus(row.id, row.status);
  if (!systemLine.empty()) appendOrRetrySystemLine(e, std::move(systemLine));
  return row;
}

void DeploymentManager::appendOrRetrySystemLine(Entry& e, std::string text) {
  spdlog::info("deployment {}: {}", e.row.id, text);
  Status a = e.seq->appendSystemLine(text);
  if (a.isOk()) return;
  spdlog::error("deployment {}: system line not stored yet, retrying: {}", e.row.id, a.toString());
  schedule(1s, SystemLineDue{e.row.id, std::move(text)});
}

void DeploymentManager::handle(const SystemLineDue& due) {
  Entry* e = find(due.deploymentId);
  if (e == nullptr) return;
  Status a = e->seq->appendSystemLine(due.text);
  if (!a.isOk()) schedule(2s, due);
}

void DeploymentManager::handle(const ReconcileDue&) {
  if (!reconcile()) schedule(2s, ReconcileDue{});
}

void DeploymentManager::handle(const plugin::RuntimeEvent& ev) {
  using T = plugin::RuntimeEventType;
  switch (ev.type) {
    case T::kConnected:
      counters_.engineConnects.fetch_add(1, std::memory_order_relaxed);
      // A failed reconcile (e.g. one inspect failing right after an engine restart) is retried:
      // deaths during the event gap are only found this way.
      if (!reconcile()) schedule(2s, ReconcileDue{});
      runtimeConnected_ = true;
      return;
    case T::kDisconnected:
      counters_.engineDisconnects.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("runtime event stream disconnected; the runtime reconnects");
      return;
    case T::kDestroy: {
      Entry* e = find(ev.deploymentId);
      if (e == nullptr) return;
      if (e->followContainer == ev.containerId) stopFollow(*e);
      updateRow(*e, [&](Deployment& row) {
        if (row.containerId == ev.containerId) row.containerId.clear();
      });
      return;
    }
    case T::kOom:
      if (Entry* e = find(ev.deploymentId)) e->oomSeen.insert(ev.containerId);
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

void DeploymentManager::handle(const FollowEnded& ended) {
  Entry* e = find(ended.deploymentId);
  if (e == nullptr || e->followContainer != ended.containerId) return;  // already replaced
  if (!ended.why.isOk() && ended.why.code() != Status::Code::kAborted) {
    spdlog::warn("deployment {}: log follow of {} ended: {}", ended.deploymentId,
                 shortId(ended.containerId), ended.why.toString());
  }
  // Read to its end: the run that was current when the follow began (a run that started after
  // that is read by a new follow).
  TimeNs run = e->followRun;
  stopFollow(*e);
  if (ended.why.isOk()) e->drained[ended.containerId] = run;
  auto info = runtime_->inspect(ended.containerId);
  // The dead run's last lines are in: its pending crash can be written now. (A follow of an
  // earlier run, e.g. begun while the container was only created, does not count.)
  if (ended.why.isOk() && e->pendingCrash && e->pendingCrash->containerId == ended.containerId &&
      e->pendingCrash->startedAt.value_or(0) == run) {
    finalizeCrash(*e);
  }
  // The container may have been restarted between the end of the stream and now.
  if (info.isOk()) applyContainer(info.value());
}

void DeploymentManager::handle(const CrashDue& due) {
  Entry* e = find(due.deploymentId);
  if (e == nullptr || !e->pendingCrash) return;
  const plugin::ContainerInfo& pc = *e->pendingCrash;
  auto waited = std::chrono::steady_clock::now() - e->pendingCrashSince;
  // The dead run's last lines: read once the follow of that container has committed a line
  // stamped at or after the death, or has been idle for a while (a follow spanning a restart
  // never ends); a follow that ended has read it all.
  bool linesIn = true;
  if (e->follow && e->followContainer == pc.containerId && e->consumer) {
    linesIn = e->consumer->committedTs() >= pc.finishedAt.value_or(0) || e->consumer->idleFor() >= 1s;
  }
  // When it already ran again before we saw the death, its die event tells the exit code.
  bool exitKnown = pc.exitCode.has_value() || waited >= kCrashSettle;
  if ((!linesIn || !exitKnown) && waited < kCrashMaxWait) {
    schedule(std::chrono::duration_cast<std::chrono::milliseconds>(kCrashSettle), due);
    return;
  }
  std::string containerId = pc.containerId;
  bool running = pc.running;
  finalizeCrash(*e);
  if (running) {  // it runs again: the [RESTART] transition
    auto info = runtime_->inspect(containerId);
    if (info.isOk()) applyContainer(info.value());
  }
}

void DeploymentManager::handle(const RemoveDeadDue& due) {
  Entry* e = find(due.deploymentId);
  if (e == nullptr || options_.keepCrashed) return;
  auto info = runtime_->inspect(due.containerId);
  if (!info.isOk() || info->running || info->restarting) return;  // gone already, or back
  if (e->followContainer == due.containerId) {  // its log is still being read
    schedule(2s, due);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (info->finishedAt != e->row.lastCrashAt) return;  // died again since; that death decides
  }
  Status s = runtime_->removeContainer(due.containerId, false);
  if (!s.isOk()) {
    spdlog::warn("deployment {}: removing dead container: {}", due.deploymentId, s.toString());
    return;
  }
  updateRow(*e, [&](Deployment& row) {
    if (row.containerId == due.containerId) row.containerId.clear();
  }, "[CRASH] dead container " + shortId(due.containerId) + " removed");
}

bool DeploymentManager::reconcile() {
  auto list = runtime_->listDeployments();
  if (!list.isOk()) {
    spdlog::warn("reconcile: listing deployments failed, retrying: {}", list.status().toString());
    return false;
  }
  std::set<std::string> seen;
  for (const plugin::ContainerInfo& c : list.value()) {
    seen.insert(c.containerId);
    applyContainer(c);
  }
  // Follows of containers that no longer exist.
  std::vector<Entry*> gone;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, e] : entries_) {
      if (e->follow && !seen.count(e->followContainer)) gone.push_back(e.get());
    }
  }
  for (Entry* e : gone) stopFollow(*e);
  spdlog::info("reconciled {} deployment containers", list->size());
  return true;
}

Result<DeploymentManager::Entry*> DeploymentManager::entryFor(const std::string& id) {
  if (Entry* e = find(id)) return e;
  auto e = std::make_unique<Entry>();
  e->row.id = id;
  e->row.routeId = id;
  e->row.createdAt = clock_.now();
  e->seq = std::make_shared<Sequencer>(id, storage_, bus_, clock_);
  ZC_RETURN_IF_ERROR(e->seq->load());
  ZC_RETURN_IF_ERROR(storage_.putDeployment(e->row));
  std::lock_guard lock(mu_);
  Entry* raw = e.get();
  entries_.emplace(id, std::move(e));
  return raw;
}

void DeploymentManager::applyContainer(const plugin::ContainerInfo& info,
                                       const plugin::RuntimeEvent* cause) {
  // A restart policy may have started the container again before we looked: inspect then shows
  // the new run, with ExitCode and OOMKilled reset. The die event carries the exit code of the
  // death itself; an oom event before it says it was an OOM kill. A death found only by a
  // reconcile of a container that already runs again has an unknown exit code.
  plugin::ContainerInfo c = info;
  if (cause && cause->type == plugin::RuntimeEventType::kDie && cause->exitCode) {
    c.exitCode = cause->exitCode;
  } else if (c.running) {
    c.exitCode.reset();
  }
  auto entry = entryFor(c.deploymentId);
  if (!entry.isOk()) {
    spdlog::error("deployment {}: {}", c.deploymentId, entry.status().toString());
    return;
  }
  Entry& e = *entry.value();
  // The die event of a death already pending (found first by a reconcile or a follow's end)
  // brings its exit code.
  if (e.pendingCrash && cause && cause->type == plugin::RuntimeEventType::kDie &&
      e.pendingCrash->containerId == c.containerId && !e.pendingCrash->exitCode) {
    e.pendingCrash->exitCode = c.exitCode;
  }
  // A crash of this container that waits for its last lines is settled before anything newer.
  if (e.pendingCrash && (c.running || c.containerId != e.pendingCrash->containerId ||
                         c.finishedAt != e.pendingCrash->finishedAt)) {
    finalizeCrash(e);
  }
  Deployment row;
  bool changed;
  {
    std::lock_guard lock(mu_);
    // A new container for a stopped and torn-down deployment: it was deployed again.
    if (e.row.status == DeploymentStatus::kStopped && e.row.containerId.empty() && c.running &&
        (!e.row.startedAt || (c.startedAt && *c.startedAt > *e.row.startedAt))) {
      e.row.status = DeploymentStatus::kRunning;
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
  // A death not yet recorded (events may have been missed: FinishedAt decides, exactly once).
  // Its [CRASH] line waits until the follow has taken the container's last lines.
  if (!stopping && c.finishedAt && (!row.lastCrashAt || *c.finishedAt > *row.lastCrashAt) &&
      !e.pendingCrash) {
    e.pendingCrash = c;
    e.pendingCrashSince = std::chrono::steady_clock::now();
    // Its [CRASH] line waits (CrashDue) for the follow to take the dead run's last lines, and,
    // when the container already runs again, for the die event that tells the exit code.
    bool following = e.follow && e.followContainer == c.containerId;
    if (following || (c.running && !c.exitCode)) {
      schedule(std::chrono::duration_cast<std::chrono::milliseconds>(kCrashSettle),
               CrashDue{c.deploymentId});
    } else {
      finalizeCrash(e);
    }
  }
  // Back after a crash (restart policy).
  DeploymentStatus now;
  {
    std::lock_guard lock(mu_);
    now = e.row.status;
  }
  if (!stopping && c.running && !c.restarting && now == DeploymentStatus::kCrashed &&
      !e.pendingCrash) {
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
  plugin::ContainerInfo c = std::move(*e.pendingCrash);
  e.pendingCrash.reset();
  int code = c.exitCode.value_or(-1);  // -1: unknown (see applyContainer)
  bool oomEvent = e.oomSeen.erase(c.containerId) > 0;
  bool oom = c.oomKilled || oomEvent;
  std::string line = "[CRASH] exit=" + std::to_string(code) + " oom=" + (oom ? "true" : "false");
  auto row = updateRow(e, [&](Deployment& r) {
    // Not for a deployment being stopped, nor for a death already recorded.
    if (r.status == DeploymentStatus::kStopped || (r.lastCrashAt && *c.finishedAt <= *r.lastCrashAt)) {
      return false;
    }
    r.lastExitCode = code;
    r.lastCrashAt = c.finishedAt;
    // Also when it already runs again (a fast restart policy): the [RESTART] line follows.
    r.status = DeploymentStatus::kCrashed;
    return true;
  }, std::move(line));
  if (!row) return;
  {
    std::lock_guard lock(mu_);
    ++e.crashes;
  }
  if (!c.running && !options_.keepCrashed && runtime_) {
    schedule(options_.crashGrace, RemoveDeadDue{c.deploymentId, c.containerId});
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
  auto consumer = std::make_unique<FollowConsumer>(*this, e.seq, c.containerId);
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
  e.following = true;
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
  e.following = false;
  activeFollows_.fetch_sub(1);
}

// --- stop and teardown (drain thread)

Result<Deployment> DeploymentManager::requestStop(const std::string& id) {
  Entry* e = find(id);
  if (e == nullptr) return Status::notFound("deployment '" + id + "' is unknown");
  bool already;
  {
    std::lock_guard lock(mu_);
    already = e->row.status == DeploymentStatus::kStopped;
  }
  Deployment row = already ? get(id).value()
                           : *updateRow(*e, [](Deployment& r) { r.status = DeploymentStatus::kStopped; },
                                        "[STOP] stop requested");
  {
    std::lock_guard lock(workMu_);
    drainWanted_ = true;
  }
  drainCv_.notify_all();
  return row;
}

bool DeploymentManager::teardownComplete(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  const Deployment& r = it->second->row;
  return r.status == DeploymentStatus::kStopped && !r.hostPort &&
         (r.containerId.empty() || it->second->teardownGaveUp);
}

void DeploymentManager::drainLoop() {
  for (;;) {
    {
      std::unique_lock lock(workMu_);
      drainCv_.wait_for(lock, 5s, [&] { return stopping_ || drainWanted_; });
      if (stopping_) return;
      drainWanted_ = false;
    }
    std::vector<Entry*> todo;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, e] : entries_) {
        const Deployment& r = e->row;
        if (r.status == DeploymentStatus::kStopped && !e->teardownGaveUp &&
            (!r.containerId.empty() || r.hostPort)) {
          todo.push_back(e.get());
        }
      }
    }
    for (Entry* e : todo) {
      {
        std::lock_guard lock(workMu_);
        if (stopping_) return;
      }
      try {
        teardown(*e);
      } catch (const std::exception& ex) {  // retried on the next pass
        spdlog::error("deployment {}: teardown: {}", e->row.id, ex.what());
      }
    }
  }
}

void DeploymentManager::teardown(Entry& e) {
  Deployment row = get(e.row.id).value();
  const std::string& id = row.id;
  bool containerLeft = false;
  if (!row.containerId.empty() && runtime_) {
    Status s = runtime_->stopContainer(row.containerId, options_.stopGrace);
    if (!s.isOk() && e.teardownAttempts == 0) {
      appendOrRetrySystemLine(e, "[STOP] stop signal failed: " + s.toString());
    }
    // Let the follow take the last lines the agent printed before the container goes.
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (e.following && std::chrono::steady_clock::now() < deadline) {
      std::unique_lock lock(workMu_);
      if (drainCv_.wait_for(lock, 50ms, [&] { return stopping_; })) return;
    }
    s = runtime_->removeContainer(row.containerId, true);
    if (!s.isOk()) {
      if (e.teardownAttempts++ == 0) {
        appendOrRetrySystemLine(e, "[STOP] container removal failed: " + s.toString());
      }
      // An unreachable engine is waited for (next pass in 5 s): the container still runs, so
      // nothing is released. Any other refusal is given up after three passes.
      bool transient = s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kTimeout;
      if (transient || e.teardownAttempts < 3) return;
      appendOrRetrySystemLine(e, "[STOP] giving up on removing container " +
                                     shortId(row.containerId) + "; it is left in place");
      containerLeft = true;
    }
  }
  if (router_ == nullptr) {
    appendOrRetrySystemLine(e, "[STOP] no router configured; route left in place");
  } else {
    Status s = router_->removeRoute(row.routeId.empty() ? id : row.routeId);
    if (!s.isOk()) appendOrRetrySystemLine(e, "[STOP] route removal failed: " + s.toString());
  }
  std::string port = row.hostPort ? " port " + std::to_string(*row.hostPort) + " released;" : "";
  e.teardownAttempts = 0;
  {
    std::lock_guard lock(mu_);
    e.teardownGaveUp = containerLeft;
  }
  updateRow(e, [&](Deployment& r) {
    if (!containerLeft) r.containerId.clear();
    r.hostPort.reset();
  }, "[STOP] teardown complete:" + port + (containerLeft ? " container left in place" : " container removed"));
  bus_.publishEnd(id);
}

// --- health and samples

void DeploymentManager::recordHealthResult(const std::string& id, bool ok) {
  Entry* e = find(id);
  if (e == nullptr) return;
  std::optional<DeploymentStatus> next;
  std::string line;
  {
    std::lock_guard lock(mu_);
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
  DeploymentStatus expected = *next == DeploymentStatus::kRunning ? DeploymentStatus::kUnhealthy
                                                                  : DeploymentStatus::kRunning;
  updateRow(*e, [&](Deployment& r) {
    if (r.status != expected) return false;  // changed meanwhile (stopped, crashed)
    r.status = *next;
    return true;
  }, std::move(line));
}

void DeploymentManager::recordSample(const std::string& id, const plugin::ResourceSample& sample) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second->lastSample = sample;
}

// --- queries

std::vector<Deployment> DeploymentManager::list() const {
  std::lock_guard lock(mu_);
  std::vector<Deployment> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e->row);
  return out;
}

std::vector<DeploymentSnapshot> DeploymentManager::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<DeploymentSnapshot> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) {
    DeploymentSnapshot s;
    s.row = e->row;
    for (LogStream st : {LogStream::kStdout, LogStream::kStderr, LogStream::kSystem}) {
      s.linesByStream[static_cast<int>(st) - 1] = e->seq->linesCommitted(st);
    }
    s.crashes = e->crashes;
    s.consecutiveHealthFailures = e->healthFailures;
    s.lastSample = e->lastSample;
    out.push_back(std::move(s));
  }
  return out;
}

Result<Deployment> DeploymentManager::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::notFound("deployment '" + id + "' is unknown");
  return it->second->row;
}

Status DeploymentManager::appendSystemLine(const std::string& id, std::string text) {
  Entry* e = find(id);
  if (e == nullptr) return Status::notFound("deployment '" + id + "' is unknown");
  return e->seq->appendSystemLine(std::move(text));
}

}  // namespace zc::collector
