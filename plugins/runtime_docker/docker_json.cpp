#include "docker_json.h"

#include "label_trust.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <charconv>
#include <tuple>
#include <vector>

namespace zc::docker {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::string str(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return {};
  const auto& v = o->get(key);
  if (v.isString()) return v.extract<std::string>();
  return {};
}

std::optional<int64_t> num(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return std::nullopt;
  const auto& v = o->get(key);
  if (v.isEmpty() || !v.isNumeric()) return std::nullopt;
  try {
    if (v.isInteger() && !v.isSigned()) {
      uint64_t u = v.convert<uint64_t>();
      return static_cast<int64_t>(std::min<uint64_t>(u, INT64_MAX));
    }
    return v.convert<int64_t>();
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

uint64_t unum(const Object::Ptr& o, const std::string& key) {
  auto v = num(o, key);
  return v && *v > 0 ? static_cast<uint64_t>(*v) : 0;
}

bool boolean(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return false;
  const auto& v = o->get(key);
  if (v.isBoolean()) return v.extract<bool>();
  return false;
}

Object::Ptr obj(const Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key)) return nullptr;
  return o->getObject(key);
}

std::optional<int> parsePort(std::string_view s) {
  int port = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (ec != std::errc() || p != s.data() + s.size() || port <= 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

// The lowest valid HostPort among one container port's bindings.
std::optional<int> lowestHostPort(const Array::Ptr& bindings) {
  std::optional<int> best;
  if (!bindings) return best;
  for (size_t i = 0; i < bindings->size(); ++i) {
    auto port = parsePort(str(bindings->getObject(static_cast<unsigned>(i)), "HostPort"));
    if (port && (!best || *port < *best)) best = port;
  }
  return best;
}

}  // namespace

std::optional<int> chooseHostPort(const Object::Ptr& ports) {
  if (!ports) return std::nullopt;
  // Container ports ordered by: the deployer's 5000/tcp, then number, then protocol name.
  struct Key {
    bool deployer;
    int port;
    std::string proto;
    std::string name;
  };
  std::vector<Key> keys;
  for (const auto& [name, value] : *ports) {
    std::string_view n = name;
    size_t slash = n.find('/');
    auto port = parsePort(n.substr(0, slash));
    if (!port) continue;
    std::string proto(slash == std::string_view::npos ? "tcp" : n.substr(slash + 1));
    keys.push_back({*port == kDeployerContainerPort && proto == "tcp", *port, proto, name});
  }
  std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    return std::tie(b.deployer, a.port, a.proto) < std::tie(a.deployer, b.port, b.proto);
  });
  for (const Key& k : keys) {
    if (auto hp = lowestHostPort(ports->getArray(k.name))) return hp;
  }
  return std::nullopt;
}

std::optional<std::string> deploymentIdFor(std::string_view name,
                                           const std::map<std::string, std::string>& labels) {
  if (auto it = labels.find("zynd.deployment"); it != labels.end()) {
    if (isValidDeploymentId(it->second)) return it->second;
    return std::nullopt;
  }
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  constexpr std::string_view kPrefix = "zynd-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view id = name.substr(kPrefix.size());
  if (!isValidDeploymentId(id)) return std::nullopt;
  return std::string(id);
}

std::optional<std::string> refusedDeploymentId(std::string_view name,
                                               const std::map<std::string, std::string>& labels) {
  if (deploymentIdFor(name, labels)) return std::nullopt;
  if (auto it = labels.find("zynd.deployment"); it != labels.end()) return it->second;
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  constexpr std::string_view kPrefix = "zynd-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  return std::string(name.substr(kPrefix.size()));
}

std::map<std::string, std::string> stringMap(const Object::Ptr& o) {
  std::map<std::string, std::string> m;
  if (!o) return m;
  for (const auto& [k, v] : *o) {
    if (v.isString()) m.emplace(k, v.extract<std::string>());
  }
  return m;
}

std::optional<TimeNs> parseEngineTime(const std::string& s) {
  if (s.empty() || s.rfind("0001-01-01", 0) == 0) return std::nullopt;
  auto r = parseRfc3339(s);
  if (!r.isOk() || r.value() <= 0) return std::nullopt;
  return r.value();
}

bool inspectRunning(const Object::Ptr& o) {
  Object::Ptr state = obj(o, "State");
  return boolean(state, "Running") || boolean(state, "Restarting");
}

std::string inspectImageId(const Object::Ptr& o) { return str(o, "Image"); }

std::map<std::string, std::string> inspectLabels(const Object::Ptr& o) {
  return stringMap(obj(obj(o, "Config"), "Labels"));
}

Result<std::optional<plugin::ContainerInfo>> parseInspect(
    const Object::Ptr& o, const std::map<std::string, std::string>& imageLabels) {
  try {
    if (!o) return Status::corruption("inspect: not an object");
    std::string id = str(o, "Id");
    if (id.empty()) return Status::corruption("inspect: no Id");
    std::string name = str(o, "Name");
    if (!name.empty() && name.front() == '/') name.erase(0, 1);
    Object::Ptr config = obj(o, "Config");
    auto labels = deployerLabels(stringMap(obj(config, "Labels")), imageLabels);
    auto dep = deploymentIdFor(name, labels);
    if (!dep) return std::optional<plugin::ContainerInfo>();

    plugin::ContainerInfo c;
    c.deploymentId = *dep;
    c.containerId = id;
    c.name = name;
    c.tty = boolean(config, "Tty");
    auto label = [&](const char* k) {
      auto it = labels.find(k);
      return it == labels.end() ? std::string() : it->second;
    };
    c.entityType = label("zynd.kind");
    c.displayName = label("zynd.name");
    c.slug = label("zynd.slug");
    c.publicUrl = label("zynd.public-url");
    c.registryUrl = label("zynd.registry-url");
    c.entityId = label("zynd.entity-id");
    c.publicKey = label("zynd.public-key");

    Object::Ptr state = obj(o, "State");
    c.running = boolean(state, "Running");
    c.restarting = boolean(state, "Restarting");
    c.oomKilled = boolean(state, "OOMKilled");
    c.startedAt = parseEngineTime(str(state, "StartedAt"));
    c.finishedAt = parseEngineTime(str(state, "FinishedAt"));
    if (c.finishedAt) {
      if (auto ec = num(state, "ExitCode")) c.exitCode = static_cast<int>(*ec);
    }
    c.createdAt = parseEngineTime(str(o, "Created")).value_or(0);
    c.restartCount = static_cast<int>(num(o, "RestartCount").value_or(0));

    Object::Ptr host = obj(o, "HostConfig");
    c.restartPolicy = str(obj(host, "RestartPolicy"), "Name");
    if (c.restartPolicy.empty()) c.restartPolicy = "no";
    c.memoryLimitBytes = num(host, "Memory").value_or(0);
    c.hostPort = chooseHostPort(obj(obj(o, "NetworkSettings"), "Ports"));
    if (!c.hostPort) c.hostPort = chooseHostPort(obj(host, "PortBindings"));
    return std::optional<plugin::ContainerInfo>(std::move(c));
  } catch (const std::exception& e) {
    return Status::corruption(std::string("inspect: unexpected JSON: ") + e.what());
  }
}

Result<StatsReading> parseStats(const Object::Ptr& o) {
  try {
    if (!o) return Status::corruption("stats: not an object");
    StatsReading r;
    r.read = parseEngineTime(str(o, "read")).value_or(0);
    Object::Ptr cpu = obj(o, "cpu_stats");
    Object::Ptr usage = obj(cpu, "cpu_usage");
    r.cpuTotal = unum(usage, "total_usage");
    r.systemCpu = unum(cpu, "system_cpu_usage");
    r.onlineCpus = static_cast<uint32_t>(unum(cpu, "online_cpus"));
    if (r.onlineCpus == 0 && usage && usage->has("percpu_usage")) {
      Array::Ptr per = usage->getArray("percpu_usage");
      if (per) r.onlineCpus = static_cast<uint32_t>(per->size());
    }
    Object::Ptr mem = obj(o, "memory_stats");
    double used = static_cast<double>(unum(mem, "usage"));
    Object::Ptr ms = obj(mem, "stats");
    // cgroup v1 reports total_inactive_file, v2 inactive_file (as the docker CLI reads them).
    std::optional<int64_t> inactive = num(ms, "total_inactive_file");
    if (!inactive) inactive = num(ms, "inactive_file");
    if (inactive && static_cast<double>(*inactive) < used) used -= static_cast<double>(*inactive);
    r.memUsedBytes = used;
    r.memLimitBytes = static_cast<double>(unum(mem, "limit"));
    return r;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("stats: unexpected JSON: ") + e.what());
  }
}

CpuReading cpuReading(const StatsReading& r) noexcept {
  return CpuReading{r.read, r.cpuTotal, r.systemCpu, r.onlineCpus};
}

std::optional<plugin::RuntimeEvent> parseEvent(std::string_view line, bool* labelClaim) {
  using plugin::RuntimeEventType;
  if (labelClaim != nullptr) *labelClaim = false;
  try {
    Poco::JSON::Parser parser;
    auto v = parser.parse(std::string(line));
    Object::Ptr e = v.extract<Object::Ptr>();
    if (!e) return std::nullopt;
    std::string type = str(e, "Type");
    if (type.empty()) type = str(e, "type");
    if (type != "container") return std::nullopt;
    std::string action = str(e, "Action");
    if (action.empty()) action = str(e, "status");
    static const std::pair<const char*, RuntimeEventType> kActions[] = {
        {"create", RuntimeEventType::kCreate}, {"start", RuntimeEventType::kStart},
        {"restart", RuntimeEventType::kRestart}, {"die", RuntimeEventType::kDie},
        {"oom", RuntimeEventType::kOom},       {"stop", RuntimeEventType::kStop},
        {"destroy", RuntimeEventType::kDestroy},
        // Podman's names for the same events (its API elsewhere emits "die" too).
        {"died", RuntimeEventType::kDie},      {"remove", RuntimeEventType::kDestroy}};
    std::optional<RuntimeEventType> t;
    for (const auto& [name, et] : kActions) {
      if (action == name) t = et;
    }
    if (!t) return std::nullopt;
    Object::Ptr actor = obj(e, "Actor");
    auto attrs = stringMap(obj(actor, "Attributes"));
    std::string name;
    if (auto it = attrs.find("name"); it != attrs.end()) name = it->second;
    auto dep = deploymentIdFor(name, attrs);
    if (!dep) return std::nullopt;
    if (labelClaim != nullptr) *labelClaim = deploymentIdFor(name, {}) != dep;
    plugin::RuntimeEvent ev;
    ev.type = *t;
    ev.deploymentId = *dep;
    ev.containerId = str(actor, "ID");
    if (ev.containerId.empty()) ev.containerId = str(e, "id");
    if (auto tn = num(e, "timeNano")) {
      ev.ts = *tn;
    } else if (auto ts = num(e, "time")) {
      ev.ts = *ts * kNanosPerSecond;
    }
    if (ev.type == RuntimeEventType::kDie) {
      auto it = attrs.find("exitCode");
      if (it == attrs.end()) it = attrs.find("containerExitCode");  // Podman's libpod events
      if (it != attrs.end()) {
        int code = 0;
        auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), code);
        if (ec == std::errc() && p == it->second.data() + it->second.size()) ev.exitCode = code;
      }
    }
    return ev;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace zc::docker
