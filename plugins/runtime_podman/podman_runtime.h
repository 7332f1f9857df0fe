// PodmanRuntime: the Runtime plugin for Podman (see README.md for what it calls and its options).
//
// It speaks libpod's API (/v4.0.0/libpod/...) over `podman system service`'s Unix socket, with
// the Docker runtime's pieces where Podman answers alike: the HTTP client (EngineClient with the
// libpod prefix), which containers are deployments and which labels count (docker_json.h,
// label_trust.h, label_selector.h), the event stream (EventSubscriber with libpod's event names)
// and the file follow (FileFollower reading the container's k8s-file / CRI log by position).
//
// configure() parses the options and asks /_ping once: a socket that does not answer fails it
// (the collector refuses to start with that one line); later outages are retried like Docker's.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine_client.h"
#include "file_follower.h"
#include "label_trust.h"
#include "podman_options.h"
#include "podman_stats.h"
#include "zc/plugin/runtime.h"

namespace zc::podman {

// What libpod inspect says beyond ContainerInfo (the real log driver and file, the cgroup).
struct PodmanDetails {
  std::string logDriver;   // HostConfig.LogConfig.Type ("k8s-file", "journald", ...)
  std::string logPath;     // HostConfig.LogConfig.Path (falls back to LogPath)
  std::string cgroupPath;  // State.CgroupPath
  std::optional<TimeNs> startedAt;  // State.StartedAt (the current or last run)
};

// From a libpod inspect answer.
PodmanDetails parseDetails(const Poco::JSON::Object::Ptr& inspect);

class PodmanRuntime final : public plugin::Runtime {
 public:
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  // Parses the options and checks that the socket answers (FailedPrecondition naming it if not).
  Status configure(const plugin::PluginContext& context) noexcept override;

  Status connect() noexcept override;
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override;
  // libpod inspect; oomKilled also when the container's cgroup counted an OOM kill while it was
  // looked at (Podman's own State.OOMKilled stays false).
  Result<plugin::ContainerInfo> inspect(std::string_view containerId) noexcept override;
  // Follows the container's k8s-file by position (FailedPrecondition for another log driver:
  // journald cannot be read back here).
  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo& container,
                                                           std::string_view cursor,
                                                           plugin::LogConsumer* consumer) noexcept override;
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(
      plugin::EventConsumer* consumer) noexcept override;
  Result<plugin::ResourceSample> sampleResources(std::string_view containerId) noexcept override;
  // The same samples for many containers at once: one poll over all connections (batch_get.h),
  // at most `maxInFlight` requests open together, every answer due within request_timeout of
  // the call (a request not answered by then is that container's Timeout). First the libpod
  // inspects of the containers whose cgroup path is not known yet, then every stats request.
  // Result i is containerIds[i]'s, as sampleResources() would give it; one container's failure
  // never affects another's. Called from one thread at a time (the sampler's).
  std::vector<Result<plugin::ResourceSample>> sampleResourcesBatch(
      std::span<const std::string> containerIds, size_t maxInFlight) noexcept override;
  Status stopContainer(std::string_view containerId, std::chrono::seconds grace) noexcept override;
  Status removeContainer(std::string_view containerId, bool force) noexcept override;

  const PodmanOptions& options() const noexcept { return options_; }
  // Containers with state kept (previous stats, cgroup, OOM count) (tests).
  size_t containersKept() const;

 private:
  // Per container: the previous stats sample, its cgroup path and the OOM kills of its runs.
  struct Kept {
    std::optional<LibpodStats> prev;
    std::string cgroupPath;
    OomRunTracker oom;
  };
  struct KeptMap {
    std::mutex mu;
    std::map<std::string, Kept, std::less<>> byContainer;  // guarded by mu
    void drop(std::string_view containerId);
  };
  // Reads the container's OOM counter into its OomRunTracker (when its cgroup is there).
  void noteOomKills(const std::string& containerId, const std::string& cgroupPath);
  // The cgroup path kept for the container ("" when not known yet).
  std::string keptCgroupPath(const std::string& containerId) const;
  // The cgroup path from `inspected`, the answer to an inspect of the container (any way it was
  // sent); its error as it is, and the container's kept state dropped on 404.
  Result<std::string> cgroupPathFrom(const std::string& containerId,
                                     const Result<Poco::JSON::Object::Ptr>& inspected);
  // The sample from `answer` to GET statsPath(containerId) (any way it was sent), with the
  // container's cgroup path; keeps what the next sample needs, drops the container on 404.
  Result<plugin::ResourceSample> sampleFrom(const std::string& containerId,
                                            const std::string& cgroupPath,
                                            const Result<docker::HttpResult>& answer);

  PodmanOptions options_;
  plugin::Logger* logger_ = nullptr;
  Clock* clock_ = nullptr;
  std::shared_ptr<docker::EngineClient> engine_;
  std::shared_ptr<docker::ImageLabelCache> images_;
  std::unique_ptr<docker::SharedTailHub> fileHubs_;
  std::shared_ptr<KeptMap> kept_ = std::make_shared<KeptMap>();
};

}  // namespace zc::podman
