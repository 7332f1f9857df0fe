#include "podman_runtime.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <set>

#include "batch_get.h"
#include "docker_json.h"
#include "docker_runtime.h"
#include "event_subscriber.h"
#include "label_selector.h"
#include "log_cursor.h"
#include "replaced_log_guard.h"

namespace zc::podman {

using docker::EngineClient;
using docker::HttpResult;
using docker::isSafeContainerRef;
using plugin::ContainerInfo;

namespace {

std::string strAt(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o || !o->has(key)) return {};
  Poco::Dynamic::Var v = o->get(key);
  return v.isString() ? v.extract<std::string>() : std::string();
}

Poco::JSON::Object::Ptr objAt(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o || !o->has(key)) return nullptr;
  return o->getObject(key);
}

// Passes every event on. A die first reads the container's OOM counter (while Podman has not yet
// removed its cgroup) and sends an oom before it when the counter rose: libpod has no oom event.
// A destroy (libpod's remove) drops what the runtime kept of the container.
class EventRelay final : public plugin::EventConsumer {
 public:
  using Hook = std::function<std::optional<plugin::RuntimeEvent>(const plugin::RuntimeEvent&)>;
  EventRelay(Hook before, plugin::EventConsumer* next) : before_(std::move(before)), next_(next) {}
  void onEvent(const plugin::RuntimeEvent& event) noexcept override {
    try {
      if (auto extra = before_(event)) next_->onEvent(*extra);
    } catch (const std::exception&) {  // only allocation can fail; the event still goes on
    }
    next_->onEvent(event);
  }

 private:
  Hook before_;
  plugin::EventConsumer* next_;
};

// A file follow and the guard it reports through (the follow stops first).
class GuardedFollow final : public plugin::Subscription {
 public:
  explicit GuardedFollow(std::unique_ptr<ReplacedLogGuard> guard) : guard_(std::move(guard)) {}
  ~GuardedFollow() override { stop(); }
  void start(std::unique_ptr<docker::FileFollower> follow) {
    follow_ = std::move(follow);
    follow_->start();
  }
  ReplacedLogGuard* guard() const { return guard_.get(); }
  void stop() noexcept override {
    if (follow_) follow_->stop();
  }

 private:
  std::unique_ptr<ReplacedLogGuard> guard_;  // first: outlives the follow
  std::unique_ptr<docker::FileFollower> follow_;
};

class RelayedSubscription final : public plugin::Subscription {
 public:
  RelayedSubscription(std::unique_ptr<EventRelay> relay,
                      std::unique_ptr<docker::EventSubscriber> subscriber)
      : relay_(std::move(relay)), subscriber_(std::move(subscriber)) {}
  ~RelayedSubscription() override { stop(); }
  void stop() noexcept override { subscriber_->stop(); }

 private:
  std::unique_ptr<EventRelay> relay_;  // first: outlives the subscriber
  std::unique_ptr<docker::EventSubscriber> subscriber_;
};

}  // namespace

PodmanDetails parseDetails(const Poco::JSON::Object::Ptr& inspect) {
  PodmanDetails d;
  Poco::JSON::Object::Ptr logConfig = objAt(objAt(inspect, "HostConfig"), "LogConfig");
  d.logDriver = strAt(logConfig, "Type");
  d.logPath = strAt(logConfig, "Path");
  if (d.logPath.empty()) d.logPath = strAt(inspect, "LogPath");
  d.cgroupPath = strAt(objAt(inspect, "State"), "CgroupPath");
  d.startedAt = docker::parseEngineTime(strAt(objAt(inspect, "State"), "StartedAt"));
  return d;
}

std::vector<plugin::OptionSpec> PodmanRuntime::optionSpecs() const noexcept {
  try {
    return podmanOptionSpecs();
  } catch (...) {
    return {};  // only allocation can fail here; the boundary is noexcept
  }
}

Status PodmanRuntime::configure(const plugin::PluginContext& context) noexcept {
  try {
    logger_ = context.logger;
    clock_ = context.clock;
    ZC_ASSIGN_OR_RETURN(options_, parsePodmanOptions(context.options));
    engine_ = std::make_shared<EngineClient>(options_.socketPath, options_.requestTimeout,
                                             kLibpodPrefix);
    images_ = std::make_shared<docker::ImageLabelCache>(engine_, logger_);
    fileHubs_ = std::make_unique<docker::SharedTailHub>(options_.fileHub);
    Status ping = engine_->negotiate();
    if (!ping.isOk()) {
      return Status::failedPrecondition("podman socket " + options_.socketPath +
                                        " does not answer (start `podman system service`): " +
                                        ping.message());
    }
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("podman runtime: configure: ") + e.what());
  }
}

Status PodmanRuntime::connect() noexcept {
  try {
    return engine_->negotiate();
  } catch (const std::exception& e) {
    return Status::internal(std::string("podman connect: ") + e.what());
  }
}

Result<std::vector<ContainerInfo>> PodmanRuntime::listDeployments() noexcept {
  try {
    // As Docker's: one request for the label, one for the name, each with --select-label's.
    const std::vector<std::string>& select = options_.events.selectLabels;
    std::vector<std::string> withMarker = {"zynd.deployment"};
    withMarker.insert(withMarker.end(), select.begin(), select.end());
    const std::string kQueries[] = {
        "/containers/json?all=true&" + docker::filtersQuery(docker::filtersJson("", withMarker)),
        "/containers/json?all=true&" +
            docker::filtersQuery(docker::filtersJson(R"("name":["^/?zynd-"])", select))};
    std::set<std::string> seen;
    std::vector<ContainerInfo> out;
    for (const std::string& query : kQueries) {
      ZC_ASSIGN_OR_RETURN(Poco::JSON::Array::Ptr list, engine_->getArray(query));
      for (size_t i = 0; i < list->size(); ++i) {
        Poco::JSON::Object::Ptr c = list->getObject(static_cast<unsigned>(i));
        std::string id = strAt(c, "Id");
        if (!isSafeContainerRef(id) || !seen.insert(id).second) continue;
        std::string name;
        if (Poco::JSON::Array::Ptr names = c->getArray("Names"); names && names->size() > 0) {
          name = names->getElement<std::string>(0);
        }
        auto labels = docker::stringMap(objAt(c, "Labels"));
        if (!docker::deploymentIdFor(name, labels)) {
          if (auto refused = docker::refusedDeploymentId(name, labels)) {
            logger_->log(plugin::LogLevel::kWarn, "podman: container " + name + " (" +
                                                      id.substr(0, 12) + ") is not followed: " +
                                                      validateDeploymentId(*refused).message());
          }
          continue;
        }
        auto info = inspect(id);
        if (info.isOk()) {
          out.push_back(std::move(info).value());
        } else if (!info.status().isNotFound()) {  // NotFound: removed meanwhile
          logger_->log(plugin::LogLevel::kWarn, "podman list: skipped container " + name + " (" +
                                                    id.substr(0, 12) +
                                                    "): " + info.status().toString());
        }
      }
    }
    return out;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("podman list: unexpected answer: ") + e.what());
  }
}

Result<ContainerInfo> PodmanRuntime::inspect(std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) {
      return Status::invalidArgument("bad container id '" +
                                     std::string(containerId.substr(0, 80)) + "'");
    }
    // libpod inspect has Docker's fields for everything ContainerInfo holds.
    ZC_ASSIGN_OR_RETURN(ContainerInfo info,
                        docker::inspectDeployment(*engine_, *images_, containerId));
    std::lock_guard<std::mutex> lock(kept_->mu);
    auto it = kept_->byContainer.find(info.containerId);
    // The run that ended last was OOM-killed: as told by its die, or seen by a sample of it when
    // its die has not been read yet.
    if (it != kept_->byContainer.end() && info.exitCode && !info.running &&
        (it->second.oom.lastRunKilled() || it->second.oom.killedThisRun())) {
      info.oomKilled = true;
    }
    return info;
  } catch (const std::exception& e) {
    return Status::internal(std::string("podman inspect: ") + e.what());
  }
}

Result<std::unique_ptr<plugin::Subscription>> PodmanRuntime::followLogs(
    const ContainerInfo& container, std::string_view cursor, plugin::LogConsumer* consumer) noexcept {
  try {
    if (consumer == nullptr) return Status::invalidArgument("followLogs: null consumer");
    if (!isSafeContainerRef(container.containerId)) {
      return Status::invalidArgument("followLogs: bad container id");
    }
    ZC_ASSIGN_OR_RETURN(docker::LogCursor c, docker::LogCursor::decode(cursor));
    ZC_ASSIGN_OR_RETURN(Poco::JSON::Object::Ptr obj,
                        engine_->getObject("/containers/" + container.containerId + "/json"));
    PodmanDetails d = parseDetails(obj);
    if (d.logDriver != "k8s-file") {
      return Status::failedPrecondition("podman logs " + container.name + ": log driver '" +
                                        d.logDriver + "' cannot be read; use k8s-file");
    }
    if (d.logPath.empty() || d.logPath.front() != '/') {
      return Status::failedPrecondition("podman logs " + container.name + ": no log path");
    }
    // From the beginning of the log, a file Podman replaced before it was opened lost lines
    // that no cursor can miss: the guard reports them (replaced_log_guard.h).
    plugin::LogConsumer* to = consumer;
    std::unique_ptr<ReplacedLogGuard> guard;
    if (c.empty()) {
      guard = std::make_unique<ReplacedLogGuard>(d.logPath, d.startedAt, consumer);
      to = guard.get();
    }
    auto hub = fileHubs_->get();
    if (logger_ != nullptr && fileHubs_->firstWithoutInotify(*hub)) {
      logger_->log(plugin::LogLevel::kWarn,
                   "k8s-file follows run without inotify (no inotify instance left: "
                   "fs.inotify.max_user_instances): each file is looked at only every "
                   "file_poll_interval and replacements cannot be counted, so every max-size "
                   "replacement is reported as a possible loss ([GAP])");
    }
    auto f = std::make_unique<docker::FileFollower>(engine_, hub, logger_, container,
                                                    d.logPath, c, to, options_.follow,
                                                    docker::LogFileFormat::kCri,
                                                    logfile::Rotation::kReplace);
    if (guard) {
      // The file the follow opened, not the one at the path when the first chunk comes (which
      // may have been replaced again by then).
      guard->setFileBirthSource([follow = f.get()] { return follow->startFileBirth(); });
    }
    auto handle = std::make_unique<GuardedFollow>(std::move(guard));
    handle->start(std::move(f));
    return std::unique_ptr<plugin::Subscription>(std::move(handle));
  } catch (const std::exception& e) {
    return Status::internal(std::string("followLogs: ") + e.what());
  }
}

void PodmanRuntime::noteOomKills(const std::string& containerId, const std::string& cgroupPath) {
  auto dir = memoryCgroupDir(options_.cgroupRoot, cgroupPath);
  if (!dir) return;
  auto reading = readOomReading(*dir);
  if (!reading) return;
  std::lock_guard<std::mutex> lock(kept_->mu);
  Kept& k = kept_->byContainer[containerId];
  k.cgroupPath = cgroupPath;
  k.oom.reading(*reading);
}

Result<std::unique_ptr<plugin::Subscription>> PodmanRuntime::subscribeEvents(
    plugin::EventConsumer* consumer) noexcept {
  try {
    if (consumer == nullptr) return Status::invalidArgument("subscribeEvents: null consumer");
    // The relay holds what it needs, not the runtime: the subscription may outlive it.
    auto hook = [kept = kept_, root = options_.cgroupRoot](
                    const plugin::RuntimeEvent& ev) -> std::optional<plugin::RuntimeEvent> {
      if (ev.type == plugin::RuntimeEventType::kDestroy) {
        kept->drop(ev.containerId);
        return std::nullopt;
      }
      if (ev.type != plugin::RuntimeEventType::kDie) return std::nullopt;
      std::lock_guard<std::mutex> lock(kept->mu);
      auto it = kept->byContainer.find(ev.containerId);
      if (it == kept->byContainer.end() || it->second.cgroupPath.empty()) return std::nullopt;
      // The cgroup, while Podman has not removed it yet, may show a kill no sample saw.
      if (auto dir = memoryCgroupDir(root, it->second.cgroupPath)) {
        if (auto reading = readOomReading(*dir)) it->second.oom.reading(*reading);
      }
      if (!it->second.oom.runEnded(ev.ts)) return std::nullopt;
      plugin::RuntimeEvent oom = ev;
      oom.type = plugin::RuntimeEventType::kOom;
      oom.exitCode.reset();
      return oom;
    };
    auto relay = std::make_unique<EventRelay>(std::move(hook), consumer);
    auto check = [engine = engine_, images = images_](plugin::RuntimeEvent& ev) {
      return docker::vetLabelClaim(*engine, *images, ev);
    };
    auto s = std::make_unique<docker::EventSubscriber>(engine_, logger_, clock_, relay.get(),
                                                       options_.events, std::move(check));
    s->start();
    return std::unique_ptr<plugin::Subscription>(
        std::make_unique<RelayedSubscription>(std::move(relay), std::move(s)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("subscribeEvents: ") + e.what());
  }
}

namespace {
std::string statsPath(const std::string& id) {
  return "/containers/stats?containers=" + id + "&stream=false";
}
std::string inspectPath(const std::string& id) { return "/containers/" + id + "/json"; }
}  // namespace

std::string PodmanRuntime::keptCgroupPath(const std::string& containerId) const {
  std::lock_guard<std::mutex> lock(kept_->mu);
  auto it = kept_->byContainer.find(containerId);
  return it != kept_->byContainer.end() ? it->second.cgroupPath : std::string();
}

Result<std::string> PodmanRuntime::cgroupPathFrom(
    const std::string& id, const Result<Poco::JSON::Object::Ptr>& inspected) {
  if (!inspected.isOk()) {
    if (inspected.status().isNotFound()) kept_->drop(id);
    return inspected.status();
  }
  return parseDetails(inspected.value()).cgroupPath;
}

Result<plugin::ResourceSample> PodmanRuntime::sampleFrom(const std::string& id,
                                                         const std::string& cgroupPath,
                                                         const Result<docker::HttpResult>& answer) {
  if (!answer.isOk()) return answer.status();
  auto obj = docker::EngineClient::objectFrom(answer.value(), statsPath(id));
  if (!obj.isOk()) {
    if (obj.status().isNotFound()) kept_->drop(id);
    return obj.status();
  }
  ZC_ASSIGN_OR_RETURN(LibpodStats cur, parseLibpodStats(obj.value()));
  plugin::ResourceSample s;
  s.sampledAt = clock_->now();
  s.memLimitBytes = cur.memLimit;
  s.memUsedBytes = cur.memUsage;
  s.cpuSecondsTotal = static_cast<double>(cur.cpuNano) / 1e9;
  // Podman's usage counts the page cache; docker stats' does not (podman_stats.h).
  if (auto dir = memoryCgroupDir(options_.cgroupRoot, cgroupPath)) {
    if (auto inactive = readInactiveFile(*dir); inactive && *inactive < cur.memUsage) {
      s.memUsedBytes = cur.memUsage - static_cast<double>(*inactive);
    }
  }
  noteOomKills(id, cgroupPath);
  std::lock_guard<std::mutex> lock(kept_->mu);
  Kept& k = kept_->byContainer[id];
  k.cgroupPath = cgroupPath;
  if (k.prev) s.cpuPct = cpuPercent(*k.prev, cur);
  k.prev = cur;
  return s;
}

Result<plugin::ResourceSample> PodmanRuntime::sampleResources(std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    std::string id(containerId);
    std::string cgroupPath = keptCgroupPath(id);
    if (cgroupPath.empty()) {
      ZC_ASSIGN_OR_RETURN(cgroupPath, cgroupPathFrom(id, engine_->getObject(inspectPath(id))));
    }
    return sampleFrom(id, cgroupPath, engine_->request("GET", statsPath(id)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("sampleResources: ") + e.what());
  }
}

std::vector<Result<plugin::ResourceSample>> PodmanRuntime::sampleResourcesBatch(
    std::span<const std::string> containerIds, size_t maxInFlight) noexcept {
  using Sample = Result<plugin::ResourceSample>;
  std::vector<Sample> out(containerIds.size(), Sample(Status::internal("not sampled")));
  try {
    docker::BatchGetOptions options;
    options.maxInFlight = maxInFlight;
    options.deadline = std::chrono::steady_clock::now() + options_.requestTimeout;
    auto prefix = engine_->apiPrefix();
    if (!prefix.isOk()) {
      for (Sample& r : out) r = prefix.status();
      return out;
    }
    std::vector<std::string> cgroup(containerIds.size());
    std::vector<size_t> ask, inspect;
    for (size_t i = 0; i < containerIds.size(); ++i) {
      if (!isSafeContainerRef(containerIds[i])) {
        out[i] = Status::invalidArgument("bad container id");
        continue;
      }
      cgroup[i] = keptCgroupPath(containerIds[i]);
      (cgroup[i].empty() ? inspect : ask).push_back(i);
    }
    if (!inspect.empty()) {
      std::vector<std::string> targets;
      for (size_t i : inspect) targets.push_back(prefix.value() + inspectPath(containerIds[i]));
      auto answers = docker::batchGet(engine_->socketPath(), targets, options);
      for (size_t k = 0; k < inspect.size(); ++k) {
        const size_t i = inspect[k];
        auto path = cgroupPathFrom(
            containerIds[i], answers[k].isOk()
                                 ? docker::EngineClient::objectFrom(answers[k].value(),
                                                                    inspectPath(containerIds[i]))
                                 : Result<Poco::JSON::Object::Ptr>(answers[k].status()));
        if (!path.isOk()) {
          out[i] = path.status();
          continue;
        }
        cgroup[i] = std::move(path).value();
        ask.push_back(i);
      }
    }
    std::sort(ask.begin(), ask.end());
    std::vector<std::string> targets;
    for (size_t i : ask) targets.push_back(prefix.value() + statsPath(containerIds[i]));
    auto answers = docker::batchGet(engine_->socketPath(), targets, options);
    for (size_t k = 0; k < ask.size(); ++k) {
      const size_t i = ask[k];
      out[i] = sampleFrom(containerIds[i], cgroup[i], answers[k]);
    }
    return out;
  } catch (const std::exception& e) {
    for (Sample& r : out) {
      if (!r.isOk() && r.status().code() == Status::Code::kInternal) {
        r = Status::internal(std::string("sampleResourcesBatch: ") + e.what());
      }
    }
    return out;
  }
}

void PodmanRuntime::KeptMap::drop(std::string_view containerId) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = byContainer.find(containerId);
  if (it != byContainer.end()) byContainer.erase(it);
}

size_t PodmanRuntime::containersKept() const {
  std::lock_guard<std::mutex> lock(kept_->mu);
  return kept_->byContainer.size();
}

Status PodmanRuntime::stopContainer(std::string_view containerId, std::chrono::seconds grace) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    int64_t t = std::max<int64_t>(0, grace.count());
    auto timeout = options_.requestTimeout + std::chrono::seconds(t);
    ZC_ASSIGN_OR_RETURN(HttpResult r, engine_->request("POST",
                                                       "/containers/" + std::string(containerId) +
                                                           "/stop?timeout=" + std::to_string(t),
                                                       timeout));
    if (r.status == 204 || r.status == 304) return Status::ok();
    std::string msg = "stop " + std::string(containerId) + ": " + std::to_string(r.status) + " " +
                      EngineClient::errorMessage(r);
    if (r.status == 404) return Status::notFound(msg);
    return Status::unavailable(msg);
  } catch (const std::exception& e) {
    return Status::internal(std::string("stopContainer: ") + e.what());
  }
}

Status PodmanRuntime::removeContainer(std::string_view containerId, bool force) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    // force: a running container is killed at once (timeout=0), not after its stop timeout.
    ZC_ASSIGN_OR_RETURN(HttpResult r,
                        engine_->request("DELETE", "/containers/" + std::string(containerId) +
                                                       (force ? "?force=true&timeout=0"
                                                              : "?force=false")));
    if (r.status == 200 || r.status == 204 || r.status == 404) {
      kept_->drop(containerId);
      return Status::ok();
    }
    std::string msg = "remove " + std::string(containerId) + ": " + std::to_string(r.status) + " " +
                      EngineClient::errorMessage(r);
    if (r.status == 409) return Status::failedPrecondition(msg);
    return Status::unavailable(msg);
  } catch (const std::exception& e) {
    return Status::internal(std::string("removeContainer: ") + e.what());
  }
}

}  // namespace zc::podman
