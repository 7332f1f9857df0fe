// Mapping of the engine's JSON (inspect, list, stats, events) to the runtime's plain values.
//
// Which containers are deployments: the label zynd.deployment=<id> (it wins when present) or
// the name zynd-<id>; the id must pass zc::isValidDeploymentId, or the container is ignored
// (refusedDeploymentId() says which id was refused, for a warning). Only labels the deployer set
// count: parseInspect() drops the zynd.* labels the container's image carries (label_trust.h)
// before it asks; an event's labels cannot be checked that way, so parseEvent() says when its id
// came from a label alone.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

#include "zc/cpu_rate.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

// The deployment id of a container with this name (with or without the leading '/') and labels,
// or nullopt when it is not a deployment container.
std::optional<std::string> deploymentIdFor(std::string_view name,
                                           const std::map<std::string, std::string>& labels);

// The id a container claims as a deployment (its zynd.deployment label, else what follows
// "zynd-" in its name) when that id is not a valid deployment id; nullopt when the container is
// a deployment container or claims to be none. For telling the operator why it is ignored.
std::optional<std::string> refusedDeploymentId(std::string_view name,
                                               const std::map<std::string, std::string>& labels);

// The container port the deployer publishes its agent on.
inline constexpr int kDeployerContainerPort = 5000;

// The host port of a deployment from inspect's NetworkSettings.Ports (or HostConfig.PortBindings):
// {"<port>/<proto>": [{"HostIp": ..., "HostPort": "<n>"}, ...] | null}. The binding of 5000/tcp
// wins, else the numerically lowest container port that has a binding; within it the lowest host
// port. nullopt when nothing is bound.
std::optional<int> chooseHostPort(const Poco::JSON::Object::Ptr& ports);

// A string-to-string JSON object (labels, attributes); non-string values are skipped.
std::map<std::string, std::string> stringMap(const Poco::JSON::Object::Ptr& obj);

// GET /containers/{id}/json -> ContainerInfo; nullopt when not a deployment container.
// `imageLabels` are the labels of the container's image (only its zynd.* ones matter): a zynd.*
// label of the container with the same key and value is ignored. Corruption when required fields
// are missing.
Result<std::optional<plugin::ContainerInfo>> parseInspect(
    const Poco::JSON::Object::Ptr& obj, const std::map<std::string, std::string>& imageLabels);

// Whether the inspect answer says the container runs or is restarting.
bool inspectRunning(const Poco::JSON::Object::Ptr& obj);

// The inspect answer's image id ("sha256:..."; its "Image" field) and its Config.Labels.
std::string inspectImageId(const Poco::JSON::Object::Ptr& obj);
std::map<std::string, std::string> inspectLabels(const Poco::JSON::Object::Ptr& obj);

// The engine's time strings; nullopt for the zero time ("0001-01-01T00:00:00Z") or garbage.
std::optional<TimeNs> parseEngineTime(const std::string& s);

// One-shot stats reading (`precpu` is empty: the CPU rate needs the previous reading).
struct StatsReading {
  TimeNs read = 0;
  uint64_t cpuTotal = 0;   // cpu_stats.cpu_usage.total_usage (ns)
  uint64_t systemCpu = 0;  // cpu_stats.system_cpu_usage (ns)
  uint32_t onlineCpus = 0;
  double memUsedBytes = 0;   // usage - inactive file (v1 total_inactive_file, v2 inactive_file)
  double memLimitBytes = 0;  // memory_stats.limit
};
Result<StatsReading> parseStats(const Poco::JSON::Object::Ptr& obj);
// Its CPU counters, for zc::CpuRateTracker (CPU % against the previous reading).
CpuReading cpuReading(const StatsReading& r) noexcept;

// One line of GET /events -> a RuntimeEvent of a deployment container, or nullopt (other
// containers, other types and actions, unparsable lines). An event's attributes hold the
// container's labels merged with its image's, so an id that the name zynd-<id> does not give
// (it came from the zynd.deployment label) is unverified: `*labelClaim` is set then, and the
// caller checks it against the container's inspect before using it. Podman's `died` and `remove`
// count as die and destroy.
std::optional<plugin::RuntimeEvent> parseEvent(std::string_view line, bool* labelClaim = nullptr);

}  // namespace zc::docker
