#include "docker_runtime.h"

#include <Poco/JSON/Array.h>

#include <charconv>
#include <functional>
#include <set>
#include <stdexcept>

#include "batch_get.h"
#include "label_selector.h"
#include "loop_follower.h"

namespace zc::docker {

using plugin::ContainerInfo;

namespace {

std::chrono::milliseconds millis(int64_t ns) {
  return std::chrono::milliseconds(std::max<int64_t>(1, ns / 1'000'000));
}

// Passes every event on; a destroy first drops the container's previous stats reading.
class StatsForgetter final : public plugin::EventConsumer {
 public:
  StatsForgetter(std::function<void(const std::string&)> drop, plugin::EventConsumer* next)
      : drop_(std::move(drop)), next_(next) {}
  void onEvent(const plugin::RuntimeEvent& event) noexcept override {
    if (event.type == plugin::RuntimeEventType::kDestroy) {
      try {
        drop_(event.containerId);
      } catch (const std::exception&) {  // only allocation can fail; the reading stays
      }
    }
    next_->onEvent(event);
  }

 private:
  std::function<void(const std::string&)> drop_;
  plugin::EventConsumer* next_;
};

// The event subscription with the forgetter it reports to; the subscriber stops (joins) first.
class ForgettingSubscription final : public plugin::Subscription {
 public:
  ForgettingSubscription(std::unique_ptr<StatsForgetter> forgetter,
                         std::unique_ptr<EventSubscriber> subscriber)
      : forgetter_(std::move(forgetter)), subscriber_(std::move(subscriber)) {}
  ~ForgettingSubscription() override { stop(); }
  void stop() noexcept override { subscriber_->stop(); }

 private:
  std::unique_ptr<StatsForgetter> forgetter_;  // first: outlives the subscriber
  std::unique_ptr<EventSubscriber> subscriber_;
};

}  // namespace

bool isSafeContainerRef(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::vector<plugin::OptionSpec> runtimeOptionSpecs() {
  using plugin::OptionType;
  constexpr int64_t kGiB = int64_t{1} << 30;
  return {
      {"socket", OptionType::kPath, "/var/run/docker.sock", "the engine's Unix socket"},
      {"max_line_bytes", OptionType::kInt, "1048576",
       "longer lines keep their head and are marked truncated", 1024, kGiB},
      {"stall_timeout", OptionType::kDuration, "5s",
       "a follow silent this long is reopened from its cursor"},
      {"stall_timeout_max", OptionType::kDuration, "60s",
       "bound for the stall timeout of an idle container"},
      {"request_timeout", OptionType::kDuration, "30s",
       "unary requests and waiting for a stream's response head"},
      {"resume_margin", OptionType::kDuration, "1s", "subtracted from since on resume"},
      {"chunk_max_lines", OptionType::kInt, "4000", "most lines in one chunk", 1, 1'000'000},
      {"chunk_max_bytes", OptionType::kInt, "1048576", "most text bytes in one chunk (at most 128 KiB from a json-file)", 1, kGiB},
      {"chunk_linger", OptionType::kString, "2ms",
       "wait for more bytes before delivering a partial batch (0 = never)"},
      {"chunk_max_delay", OptionType::kDuration, "50ms",
       "never hold a received line back longer than this"},
      {"partial_piece_bytes", OptionType::kInt, "16384", "the engine's piece size for long lines",
       1024, int64_t{1} << 24},
      {"restart_grace", OptionType::kDuration, "1s",
       "after a stream ends, wait this long before deciding the container stopped"},
      {"follow_threads", OptionType::kInt, "4",
       "workers of the loop shared by every log follow (0 = one thread per follow)", 0, 64},
      {"select_labels", OptionType::kString, "",
       "follow only containers carrying every KEY=VALUE of this comma list (--select-label)"},
      {"log_source", OptionType::kString, "auto",
       "auto (the json-file when the container uses json-file and it is readable, else the "
       "Engine API), api, or file"},
      {"file_workers", OptionType::kInt, "4",
       "threads that read the json-files of every followed container", 1, 64},
      {"file_poll_interval", OptionType::kDuration, "1s",
       "json-files are also looked at this often (besides inotify)"},
  };
}

Result<RuntimeOptions> parseRuntimeOptions(const std::map<std::string, std::string>& o) {
  ZC_ASSIGN_OR_RETURN(plugin::OptionValues v, plugin::OptionValues::parse(runtimeOptionSpecs(), o));
  RuntimeOptions r;
  r.socketPath = v.string("socket");
  if (r.socketPath.size() >= 108) {
    return Status::invalidArgument("socket: a Unix socket path must be shorter than 108 bytes");
  }
  r.requestTimeout = millis(v.durationNs("request_timeout"));
  FollowOptions& f = r.follow;
  f.maxLineBytes = static_cast<size_t>(v.integer("max_line_bytes"));
  f.chunkMaxLines = static_cast<size_t>(v.integer("chunk_max_lines"));
  f.chunkMaxBytes = static_cast<size_t>(v.integer("chunk_max_bytes"));
  f.partialPieceBytes = static_cast<size_t>(v.integer("partial_piece_bytes"));
  f.stallTimeout = millis(v.durationNs("stall_timeout"));
  f.stallTimeoutMax = std::max(f.stallTimeout, millis(v.durationNs("stall_timeout_max")));
  f.restartGrace = millis(v.durationNs("restart_grace"));
  f.chunkMaxDelay = millis(v.durationNs("chunk_max_delay"));
  const std::string& linger = v.string("chunk_linger");
  if (linger == "0") {
    f.chunkLinger = std::chrono::microseconds(0);
  } else {
    auto ns = parseDuration(linger);
    if (!ns.isOk()) {
      return Status::invalidArgument("chunk_linger: '" + linger +
                                     "' is not 0 or a duration (e.g. 2ms)");
    }
    f.chunkLinger = millis(ns.value());
  }
  f.resumeMarginNs = millis(v.durationNs("resume_margin")).count() * int64_t{1'000'000};
  r.followThreads = static_cast<size_t>(v.integer("follow_threads"));
  ZC_ASSIGN_OR_RETURN(r.events.selectLabels, parseSelectLabels(v.string("select_labels")));
  ZC_ASSIGN_OR_RETURN(r.logSource, parseLogSource(v.string("log_source")));
  r.fileHub.workers = static_cast<size_t>(v.integer("file_workers"));
  r.fileHub.pollInterval = millis(v.durationNs("file_poll_interval"));
  return r;
}

std::vector<plugin::OptionSpec> DockerRuntime::optionSpecs() const noexcept {
  try {
    return runtimeOptionSpecs();
  } catch (...) {
    return {};  // only allocation can fail here; the boundary is noexcept
  }
}

Status DockerRuntime::configure(const plugin::PluginContext& context) noexcept {
  try {
    logger_ = context.logger;
    clock_ = context.clock;
    ZC_ASSIGN_OR_RETURN(options_, parseRuntimeOptions(context.options));
    engine_ = std::make_shared<EngineClient>(options_.socketPath, options_.requestTimeout);
    images_ = std::make_shared<ImageLabelCache>(engine_, logger_);
    fileHubs_ = std::make_unique<SharedTailHub>(options_.fileHub);
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::internal(std::string("docker runtime: configure: ") + e.what());
  }
}

Status DockerRuntime::connect() noexcept {
  try {
    return engine_->negotiate();
  } catch (const std::exception& e) {
    return Status::internal(std::string("docker connect: ") + e.what());
  }
}

Result<std::vector<ContainerInfo>> DockerRuntime::listDeployments() noexcept {
  try {
    // Filters of different keys AND together: one request for the label, one for the name
    // (a regular expression matched against the name with and without its leading '/').
    // --select-label adds its labels to both (see label_selector.h).
    const std::vector<std::string>& select = options_.events.selectLabels;
    std::vector<std::string> withMarker = {"zynd.deployment"};
    withMarker.insert(withMarker.end(), select.begin(), select.end());
    const std::string kQueries[] = {
        "/containers/json?all=1&" + filtersQuery(filtersJson("", withMarker)),
        "/containers/json?all=1&" + filtersQuery(filtersJson(R"("name":["^/?zynd-"])", select))};
    std::vector<ListedContainer> listed;
    std::set<std::string> seen;
    for (const std::string& query : kQueries) {
      ZC_ASSIGN_OR_RETURN(Poco::JSON::Array::Ptr list, engine_->getArray(query));
      for (size_t i = 0; i < list->size(); ++i) {
        Poco::JSON::Object::Ptr c = list->getObject(static_cast<unsigned>(i));
        if (!c) continue;
        ListedContainer l;
        l.id = c->optValue<std::string>("Id", "");
        if (!isSafeContainerRef(l.id) || !seen.insert(l.id).second) continue;
        l.labels = stringMap(c->has("Labels") ? c->getObject("Labels") : nullptr);
        if (Poco::JSON::Array::Ptr names = c->getArray("Names"); names && names->size() > 0) {
          l.name = names->getElement<std::string>(0);
          if (!l.name.empty() && l.name.front() == '/') l.name.erase(0, 1);
        }
        listed.push_back(std::move(l));
      }
    }
    warnRefused(listed);
    std::vector<ContainerInfo> out;
    for (const ListedContainer& l : listed) {
      if (!deploymentIdFor(l.name, l.labels)) continue;
      auto info = inspect(l.id);
      if (info.isOk()) {
        out.push_back(std::move(info).value());
      } else if (!info.status().isNotFound()) {  // NotFound: removed meanwhile
        // One container must not hide the others; the next reconcile asks again.
        logger_->log(plugin::LogLevel::kWarn, "docker list: skipped container " + l.name + " (" +
                                                  l.id.substr(0, 12) +
                                                  "): " + info.status().toString());
      }
    }
    return out;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("docker list: unexpected answer: ") + e.what());
  }
}

void DockerRuntime::warnRefused(const std::vector<ListedContainer>& listed) {
  std::lock_guard<std::mutex> lock(refusedMu_);
  std::set<std::string, std::less<>> present;
  for (const ListedContainer& l : listed) {
    auto id = refusedDeploymentId(l.name, l.labels);
    if (!id) continue;
    present.insert(l.id);
    if (refusedWarned_.count(l.id) != 0) continue;
    // validateDeploymentId() quotes the id printably (it comes from a label or a name).
    logger_->log(plugin::LogLevel::kWarn, "docker: container " + l.name + " (" +
                                              l.id.substr(0, 12) + ") is not followed: " +
                                              validateDeploymentId(*id).message());
  }
  // Forget the containers that are gone, so the set stays as small as the host's list.
  refusedWarned_ = std::move(present);
}

Result<ContainerInfo> DockerRuntime::inspect(std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) {
      return Status::invalidArgument("bad container id '" + std::string(containerId.substr(0, 80)) + "'");
    }
    return inspectDeployment(*engine_, *images_, containerId);
  } catch (const std::exception& e) {
    return Status::internal(std::string("docker inspect: ") + e.what());
  }
}

Result<std::unique_ptr<plugin::Subscription>> DockerRuntime::followLogs(
    const ContainerInfo& container, std::string_view cursor, plugin::LogConsumer* consumer) noexcept {
  try {
    if (consumer == nullptr) return Status::invalidArgument("followLogs: null consumer");
    if (!isSafeContainerRef(container.containerId)) {
      return Status::invalidArgument("followLogs: bad container id");
    }
    ZC_ASSIGN_OR_RETURN(LogCursor c, LogCursor::decode(cursor));
    if (auto file = startFileFollow(options_.logSource, engine_, *fileHubs_, logger_, container, c,
                                    consumer, options_.follow)) {
      return file;
    }
    if (options_.followThreads == 0) {
      auto f = std::make_unique<LogFollower>(engine_, logger_, container, c, consumer,
                                             options_.follow);
      f->start();
      return std::unique_ptr<plugin::Subscription>(std::move(f));
    }
    auto loop = followLoop();
    auto f = std::make_shared<LoopFollower>(engine_, logger_, container, c, consumer,
                                            options_.follow);
    loop->add(f);
    return std::unique_ptr<plugin::Subscription>(
        std::make_unique<LoopFollowHandle>(std::move(loop), std::move(f)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("followLogs: ") + e.what());
  }
}

std::shared_ptr<FollowLoop> DockerRuntime::followLoop() {
  std::lock_guard<std::mutex> lock(loopMu_);
  if (!loop_) loop_ = std::make_shared<FollowLoop>(options_.followThreads);
  return loop_;
}

Result<std::unique_ptr<plugin::Subscription>> DockerRuntime::subscribeEvents(
    plugin::EventConsumer* consumer) noexcept {
  try {
    if (consumer == nullptr) return Status::invalidArgument("subscribeEvents: null consumer");
    // The forgetter holds the readings, not the runtime: the subscription may outlive it.
    auto forgetter = std::make_unique<StatsForgetter>(
        [rates = cpuRates_](const std::string& id) { rates->forget(id); }, consumer);
    // An id that only a label gives is checked against the container's trusted inspect.
    auto check = [engine = engine_, images = images_](plugin::RuntimeEvent& ev) {
      return vetLabelClaim(*engine, *images, ev);
    };
    auto s = std::make_unique<EventSubscriber>(engine_, logger_, clock_, forgetter.get(),
                                               options_.events, std::move(check));
    s->start();
    return std::unique_ptr<plugin::Subscription>(
        std::make_unique<ForgettingSubscription>(std::move(forgetter), std::move(s)));
  } catch (const std::exception& e) {
    return Status::internal(std::string("subscribeEvents: ") + e.what());
  }
}

namespace {

std::string statsPath(std::string_view containerId) {
  return "/containers/" + std::string(containerId) + "/stats?stream=false&one-shot=true";
}

// No baseline after `pct`: the container's first reading, or its first since a restart. A
// second one-shot request, which the engine answers at its next stats tick (about 1 s later),
// gives a measured figure instead of a 0 that would read as an idle container.
bool wantsSecondReading(const std::optional<double>& pct, const StatsReading& cur) {
  return !pct && cur.systemCpu != 0;
}

}  // namespace

Result<StatsReading> DockerRuntime::statsFrom(const std::string& containerId,
                                              const Result<HttpResult>& answer) {
  if (!answer.isOk()) return answer.status();
  auto obj = EngineClient::objectFrom(answer.value(), statsPath(containerId));
  if (!obj.isOk()) {
    if (obj.status().isNotFound()) cpuRates_->forget(containerId);  // gone
    return obj.status();
  }
  return parseStats(obj.value());
}

Result<StatsReading> DockerRuntime::readStats(const std::string& containerId) {
  return statsFrom(containerId, engine_->request("GET", statsPath(containerId)));
}

plugin::ResourceSample DockerRuntime::toSample(const StatsReading& cur,
                                               const std::optional<double>& pct) const {
  plugin::ResourceSample s;
  s.sampledAt = cur.read > 0 ? cur.read : clock_->now();
  s.memUsedBytes = cur.memUsedBytes;
  s.memLimitBytes = cur.memLimitBytes;
  s.cpuSecondsTotal = static_cast<double>(cur.cpuTotal) / 1e9;  // total_usage is in ns
  s.cpuPct = pct.value_or(0.0);  // still none (the same tick twice): 0, as runtime.h says
  return s;
}

Result<plugin::ResourceSample> DockerRuntime::sampleResources(
    std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    std::string id(containerId);
    ZC_ASSIGN_OR_RETURN(StatsReading cur, readStats(id));
    std::optional<double> pct = cpuRates_->update(id, cpuReading(cur));
    if (wantsSecondReading(pct, cur)) {
      auto again = readStats(id);
      if (again.status().isNotFound()) return again.status();
      if (again.isOk()) {
        cur = again.value();
        pct = cpuRates_->update(id, cpuReading(cur));
      }
    }
    return toSample(cur, pct);
  } catch (const std::exception& e) {
    return Status::internal(std::string("sampleResources: ") + e.what());
  }
}

std::vector<Result<StatsReading>> DockerRuntime::readStatsBatch(
    std::span<const std::string> ids, const std::vector<size_t>& which, size_t maxInFlight,
    std::chrono::steady_clock::time_point deadline) {
  std::vector<Result<StatsReading>> out;
  out.reserve(which.size());
  auto prefix = engine_->apiPrefix();
  if (!prefix.isOk()) {
    for (size_t k = 0; k < which.size(); ++k) out.push_back(prefix.status());
    return out;
  }
  std::vector<std::string> targets;
  targets.reserve(which.size());
  for (size_t i : which) targets.push_back(prefix.value() + statsPath(ids[i]));
  BatchGetOptions options;
  options.maxInFlight = maxInFlight;
  options.deadline = deadline;
  auto answers = batchGet(engine_->socketPath(), targets, options);
  for (size_t k = 0; k < which.size(); ++k) out.push_back(statsFrom(ids[which[k]], answers[k]));
  return out;
}

std::vector<Result<plugin::ResourceSample>> DockerRuntime::sampleResourcesBatch(
    std::span<const std::string> containerIds, size_t maxInFlight) noexcept {
  using Sample = Result<plugin::ResourceSample>;
  std::vector<Sample> out(containerIds.size(), Sample(Status::internal("not sampled")));
  try {
    const auto deadline = std::chrono::steady_clock::now() + options_.requestTimeout;
    std::vector<size_t> ask;
    for (size_t i = 0; i < containerIds.size(); ++i) {
      if (isSafeContainerRef(containerIds[i])) {
        ask.push_back(i);
      } else {
        out[i] = Status::invalidArgument("bad container id");
      }
    }
    std::vector<StatsReading> cur(containerIds.size());
    std::vector<std::optional<double>> pct(containerIds.size());
    std::vector<size_t> again;
    auto first = readStatsBatch(containerIds, ask, maxInFlight, deadline);
    for (size_t k = 0; k < ask.size(); ++k) {
      size_t i = ask[k];
      if (!first[k].isOk()) {
        out[i] = first[k].status();
        continue;
      }
      cur[i] = first[k].value();
      pct[i] = cpuRates_->update(containerIds[i], cpuReading(cur[i]));
      if (wantsSecondReading(pct[i], cur[i])) {
        again.push_back(i);  // one more wave, for these only
      } else {
        out[i] = toSample(cur[i], pct[i]);
      }
    }
    if (again.empty()) return out;
    auto second = readStatsBatch(containerIds, again, maxInFlight, deadline);
    for (size_t k = 0; k < again.size(); ++k) {
      size_t i = again[k];
      if (second[k].status().isNotFound()) {
        out[i] = second[k].status();
        continue;
      }
      if (second[k].isOk()) {
        cur[i] = second[k].value();
        pct[i] = cpuRates_->update(containerIds[i], cpuReading(cur[i]));
      }
      out[i] = toSample(cur[i], pct[i]);  // a failed second reading: the first one, CPU % 0
    }
    return out;
  } catch (const std::exception& e) {
    for (auto& r : out) {
      if (!r.isOk() && r.status().code() == Status::Code::kInternal) {
        r = Status::internal(std::string("sampleResourcesBatch: ") + e.what());
      }
    }
    return out;
  }
}

size_t DockerRuntime::statsKept() const {
  return cpuRates_->size();
}

Status DockerRuntime::stopContainer(std::string_view containerId, std::chrono::seconds grace) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    int64_t t = std::max<int64_t>(0, grace.count());
    auto timeout = options_.requestTimeout + std::chrono::seconds(t);
    ZC_ASSIGN_OR_RETURN(HttpResult r,
                        engine_->request("POST",
                                         "/containers/" + std::string(containerId) +
                                             "/stop?t=" + std::to_string(t),
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

Status DockerRuntime::removeContainer(std::string_view containerId, bool force) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    ZC_ASSIGN_OR_RETURN(HttpResult r,
                        engine_->request("DELETE", "/containers/" + std::string(containerId) +
                                                       (force ? "?force=1" : "?force=0")));
    if (r.status == 204 || r.status == 404) cpuRates_->forget(containerId);
    if (r.status == 204 || r.status == 404) return Status::ok();
    std::string msg = "remove " + std::string(containerId) + ": " + std::to_string(r.status) + " " +
                      EngineClient::errorMessage(r);
    if (r.status == 409) return Status::failedPrecondition(msg);
    return Status::unavailable(msg);
  } catch (const std::exception& e) {
    return Status::internal(std::string("removeContainer: ") + e.what());
  }
}

}  // namespace zc::docker
