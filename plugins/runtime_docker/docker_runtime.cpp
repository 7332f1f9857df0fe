#include "docker_runtime.h"

#include <Poco/JSON/Array.h>

#include <charconv>
#include <stdexcept>

namespace zc::docker {

using plugin::ContainerInfo;

namespace {

Status parseSize(const std::map<std::string, std::string>& o, const char* key, size_t min,
                 size_t max, size_t* out) {
  auto it = o.find(key);
  if (it == o.end()) return Status::ok();
  const std::string& v = it->second;
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
    return Status::invalidArgument("runtime docker: option " + std::string(key) + "='" + v +
                                   "' must be an integer in [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "]");
  }
  *out = static_cast<size_t>(n);
  return Status::ok();
}

Status parseMs(const std::map<std::string, std::string>& o, const char* key,
               std::chrono::milliseconds* out) {
  auto it = o.find(key);
  if (it == o.end()) return Status::ok();
  auto d = parseDuration(it->second);
  if (!d.isOk()) {
    return Status::invalidArgument("runtime docker: option " + std::string(key) + "='" +
                                   it->second + "': " + d.status().message());
  }
  *out = std::chrono::milliseconds(std::max<int64_t>(1, d.value() / 1'000'000));
  return Status::ok();
}

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

Result<RuntimeOptions> parseRuntimeOptions(const std::map<std::string, std::string>& o) {
  static const char* kKnown[] = {"docker_socket",    "max_line_bytes",    "stall_timeout",
                                 "stall_timeout_max", "request_timeout",  "resume_margin",
                                 "chunk_max_lines",  "chunk_max_bytes",   "partial_piece_bytes",
                                 "restart_grace",    "chunk_linger",      "chunk_max_delay"};
  for (const auto& [k, v] : o) {
    bool known = false;
    for (const char* n : kKnown) known = known || k == n;
    if (!known) return Status::invalidArgument("runtime docker: unknown option '" + k + "'");
  }
  RuntimeOptions r;
  if (auto it = o.find("docker_socket"); it != o.end()) {
    if (it->second.empty() || it->second.front() != '/' || it->second.size() >= 108) {
      return Status::invalidArgument("runtime docker: docker_socket must be an absolute path "
                                     "shorter than 108 bytes");
    }
    r.socketPath = it->second;
  }
  FollowOptions& f = r.follow;
  ZC_RETURN_IF_ERROR(parseSize(o, "max_line_bytes", 1024, size_t{1} << 30, &f.maxLineBytes));
  ZC_RETURN_IF_ERROR(parseSize(o, "chunk_max_lines", 1, 1'000'000, &f.chunkMaxLines));
  ZC_RETURN_IF_ERROR(parseSize(o, "chunk_max_bytes", 1, size_t{1} << 30, &f.chunkMaxBytes));
  ZC_RETURN_IF_ERROR(
      parseSize(o, "partial_piece_bytes", 1024, size_t{1} << 24, &f.partialPieceBytes));
  ZC_RETURN_IF_ERROR(parseMs(o, "stall_timeout", &f.stallTimeout));
  ZC_RETURN_IF_ERROR(parseMs(o, "stall_timeout_max", &f.stallTimeoutMax));
  ZC_RETURN_IF_ERROR(parseMs(o, "request_timeout", &r.requestTimeout));
  ZC_RETURN_IF_ERROR(parseMs(o, "restart_grace", &f.restartGrace));
  ZC_RETURN_IF_ERROR(parseMs(o, "chunk_max_delay", &f.chunkMaxDelay));
  if (auto it = o.find("chunk_linger"); it != o.end() && it->second == "0") {
    f.chunkLinger = std::chrono::microseconds(0);
  } else {
    std::chrono::milliseconds linger(2);
    ZC_RETURN_IF_ERROR(parseMs(o, "chunk_linger", &linger));
    f.chunkLinger = linger;
  }
  std::chrono::milliseconds margin(1000);
  ZC_RETURN_IF_ERROR(parseMs(o, "resume_margin", &margin));
  f.resumeMarginNs = static_cast<int64_t>(margin.count()) * 1'000'000;
  if (f.stallTimeoutMax < f.stallTimeout) f.stallTimeoutMax = f.stallTimeout;
  return r;
}

DockerRuntime::DockerRuntime(const plugin::PluginContext& context)
    : logger_(context.logger), clock_(context.clock) {
  auto parsed = parseRuntimeOptions(context.options);
  if (!parsed.isOk()) throw std::invalid_argument(parsed.status().message());
  options_ = std::move(parsed).value();
  engine_ = std::make_shared<EngineClient>(options_.socketPath, options_.requestTimeout);
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
    ZC_ASSIGN_OR_RETURN(Poco::JSON::Array::Ptr list, engine_->getArray("/containers/json?all=1"));
    std::vector<ContainerInfo> out;
    for (size_t i = 0; i < list->size(); ++i) {
      Poco::JSON::Object::Ptr c = list->getObject(static_cast<unsigned>(i));
      if (!c) continue;
      std::string id = c->optValue<std::string>("Id", "");
      auto labels = stringMap(c->has("Labels") ? c->getObject("Labels") : nullptr);
      std::string name;
      if (Poco::JSON::Array::Ptr names = c->getArray("Names"); names && names->size() > 0) {
        name = names->getElement<std::string>(0);
      }
      if (!deploymentIdFor(name, labels) || !isSafeContainerRef(id)) continue;
      auto info = inspect(id);
      if (!info.isOk()) {
        if (info.status().isNotFound()) continue;  // removed meanwhile
        return info.status();
      }
      out.push_back(std::move(info).value());
    }
    return out;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("docker list: unexpected answer: ") + e.what());
  }
}

Result<ContainerInfo> DockerRuntime::inspect(std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) {
      return Status::invalidArgument("bad container id '" + std::string(containerId.substr(0, 80)) + "'");
    }
    ZC_ASSIGN_OR_RETURN(Poco::JSON::Object::Ptr obj,
                        engine_->getObject("/containers/" + std::string(containerId) + "/json"));
    ZC_ASSIGN_OR_RETURN(std::optional<ContainerInfo> info, parseInspect(obj));
    if (!info) {
      return Status::notFound("container " + std::string(containerId) +
                              " is not a deployment container");
    }
    return std::move(*info);
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
    auto f = std::make_unique<LogFollower>(engine_, logger_, container, c, consumer,
                                           options_.follow);
    f->start();
    return std::unique_ptr<plugin::Subscription>(std::move(f));
  } catch (const std::exception& e) {
    return Status::internal(std::string("followLogs: ") + e.what());
  }
}

Result<std::unique_ptr<plugin::Subscription>> DockerRuntime::subscribeEvents(
    plugin::EventConsumer* consumer) noexcept {
  try {
    if (consumer == nullptr) return Status::invalidArgument("subscribeEvents: null consumer");
    auto s = std::make_unique<EventSubscriber>(engine_, logger_, clock_, consumer, options_.events);
    s->start();
    return std::unique_ptr<plugin::Subscription>(std::move(s));
  } catch (const std::exception& e) {
    return Status::internal(std::string("subscribeEvents: ") + e.what());
  }
}

Result<plugin::ResourceSample> DockerRuntime::sampleResources(std::string_view containerId) noexcept {
  try {
    if (!isSafeContainerRef(containerId)) return Status::invalidArgument("bad container id");
    std::string id(containerId);
    ZC_ASSIGN_OR_RETURN(Poco::JSON::Object::Ptr obj,
                        engine_->getObject("/containers/" + id + "/stats?stream=false&one-shot=true"));
    ZC_ASSIGN_OR_RETURN(StatsReading cur, parseStats(obj));
    plugin::ResourceSample s;
    s.sampledAt = cur.read > 0 ? cur.read : clock_->now();
    s.memUsedBytes = cur.memUsedBytes;
    s.memLimitBytes = cur.memLimitBytes;
    std::lock_guard<std::mutex> lock(statsMu_);
    auto it = prevStats_.find(id);
    if (it != prevStats_.end()) {
      s.cpuPct = cpuPercent(it->second, cur);
      it->second = cur;
    } else {
      prevStats_.emplace(id, cur);
    }
    return s;
  } catch (const std::exception& e) {
    return Status::internal(std::string("sampleResources: ") + e.what());
  }
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
    {
      std::lock_guard<std::mutex> lock(statsMu_);
      prevStats_.erase(std::string(containerId));
    }
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
