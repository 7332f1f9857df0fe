// DockerRuntime: the Runtime plugin for the Docker engine (see README.md for its options).
//
// Construction only parses options (bad options throw, which the loader reports as a create()
// failure); connect() negotiates the API version; followLogs()/subscribeEvents() start one
// thread each, owned by the returned Subscription. Subscriptions share the engine client with
// the runtime, so they stay valid even if the runtime object goes first.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "docker_json.h"
#include "engine_client.h"
#include "event_subscriber.h"
#include "file_follower.h"
#include "label_trust.h"
#include "follow_loop.h"
#include "log_follower.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

struct RuntimeOptions {
  std::string socketPath = "/var/run/docker.sock";
  std::chrono::milliseconds requestTimeout{30000};
  FollowOptions follow;
  // Workers of the shared follow loop; 0 = one thread per follow (LogFollower).
  size_t followThreads = 4;
  EventOptions events;
  LogSource logSource = LogSource::kAuto;                 // file_source.h
  logfile::TailHub::Options fileHub;                      // the file follows' threads
};

// The keys this plugin takes (README "Options").
std::vector<plugin::OptionSpec> runtimeOptionSpecs();
// Parses PluginContext::options; InvalidArgument "<key>: <why>" on an unknown key or bad value.
Result<RuntimeOptions> parseRuntimeOptions(const std::map<std::string, std::string>& options);

class DockerRuntime final : public plugin::Runtime {
 public:
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  // Parses the options; creates the engine client (no connection until connect()).
  Status configure(const plugin::PluginContext& context) noexcept override;

  Status connect() noexcept override;
  Result<std::vector<plugin::ContainerInfo>> listDeployments() noexcept override;
  Result<plugin::ContainerInfo> inspect(std::string_view containerId) noexcept override;
  Result<std::unique_ptr<plugin::Subscription>> followLogs(const plugin::ContainerInfo& container,
                                                           std::string_view cursor,
                                                           plugin::LogConsumer* consumer) noexcept override;
  Result<std::unique_ptr<plugin::Subscription>> subscribeEvents(
      plugin::EventConsumer* consumer) noexcept override;
  Result<plugin::ResourceSample> sampleResources(std::string_view containerId) noexcept override;
  // All at once (runtime.h): one connection per container, at most `maxInFlight` open, all
  // answered by the engine's next stats tick; then one more wave for the containers that had
  // no CPU baseline. The whole call ends within the request timeout; a container not answered
  // by then gets Timeout.
  std::vector<Result<plugin::ResourceSample>> sampleResourcesBatch(
      std::span<const std::string> containerIds, size_t maxInFlight) noexcept override;
  Status stopContainer(std::string_view containerId, std::chrono::seconds grace) noexcept override;
  Status removeContainer(std::string_view containerId, bool force) noexcept override;

  const RuntimeOptions& options() const noexcept { return options_; }

 private:
  // One entry of GET /containers/json, the name without its leading '/'.
  struct ListedContainer {
    std::string id;
    std::string name;
    std::map<std::string, std::string> labels;
  };
  // Warns once per container that claims a deployment id that is not valid (until it is no
  // longer listed).
  void warnRefused(const std::vector<ListedContainer>& listed);

  RuntimeOptions options_;
  plugin::Logger* logger_ = nullptr;  // set by configure()
  Clock* clock_ = nullptr;
  std::shared_ptr<EngineClient> engine_;
  // The zynd.* labels of the images in use, shared with the event subscription (label_trust.h).
  std::shared_ptr<ImageLabelCache> images_;
  std::unique_ptr<SharedTailHub> fileHubs_;  // set by configure()
  std::mutex refusedMu_;
  std::set<std::string, std::less<>> refusedWarned_;  // container ids already warned about
  // The previous CPU reading of each container (one-shot stats carry none). Shared with the event
  // subscription, which forgets a container when its destroy event arrives; removal by
  // removeContainer() and a stats request answered 404 forget it too, so it holds the
  // containers that exist.
  std::shared_ptr<CpuRateTracker> cpuRates_ = std::make_shared<CpuRateTracker>();
  // One stats request: the parsed reading; NotFound (and the container forgotten) when gone.
  Result<StatsReading> readStats(const std::string& containerId);
  // The reading in an engine's `answer` to a stats request, under readStats()'s rules.
  Result<StatsReading> statsFrom(const std::string& containerId, const Result<HttpResult>& answer);
  // Stats requests for ids[which[k]] all at once (batch_get.h); result k for which[k].
  std::vector<Result<StatsReading>> readStatsBatch(std::span<const std::string> ids,
                                                   const std::vector<size_t>& which,
                                                   size_t maxInFlight,
                                                   std::chrono::steady_clock::time_point deadline);
  // The sample of reading `cur` with CPU % `pct` (0 when none).
  plugin::ResourceSample toSample(const StatsReading& cur, const std::optional<double>& pct) const;
  // The loop every follow runs on, made by the first followLogs(); each follow's Subscription
  // shares it, so it stops when the runtime and the last follow are gone.
  std::shared_ptr<FollowLoop> followLoop();
  std::mutex loopMu_;
  std::shared_ptr<FollowLoop> loop_;  // guarded by loopMu_

 public:
  // Containers with a previous stats reading kept (tests).
  size_t statsKept() const;
  // Images whose labels are cached (tests).
  size_t imagesCached() const { return images_ ? images_->size() : 0; }
};

// Whether `id` may be put in a URL path as a container id or name (no '/', '?', '%', ...).
bool isSafeContainerRef(std::string_view id) noexcept;

}  // namespace zc::docker
