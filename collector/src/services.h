// Services: everything the daemon's subsystems build, in one place, owned by the application.
// Each subsystem fills its part in initialize() and releases it in uninitialize(); subsystems
// are initialised in declaration order and uninitialised in reverse (collector_app.cpp), so a
// later subsystem may rely on every earlier one.
#pragma once

#include <memory>
#include <string>

#include "central_api.h"
#include "collector_api_impl.h"
#include "deployment_manager.h"
#include "forwarder.h"
#include "monitors.h"
#include "options.h"
#include "periodic_task.h"
#include "retention_job.h"
#include "storage_quota.h"
#include "zc/clock.h"
#include "zc/exporters/access.h"
#include "zc/exporters/exporters.h"
#include "zc/exporters/http_server.h"
#include "zc/host/live_bus.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/router.h"
#include "zc/plugin/runtime.h"
#include "zc/plugin/sink.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

// Forwards plugin log messages to spdlog, tagged with the plugin's name.
class SpdlogPluginLogger final : public plugin::Logger {
 public:
  explicit SpdlogPluginLogger(std::string tag) : tag_(std::move(tag)) {}
  void log(plugin::LogLevel level, std::string_view message) noexcept override;

 private:
  std::string tag_;
};

struct Services {
  CollectorConfig config;
  Clock* clock = &systemClock();
  host::PluginRegistry plugins;
  SpdlogPluginLogger storageLogger{"storage"};
  SpdlogPluginLogger runtimeLogger{"runtime"};
  SpdlogPluginLogger routerLogger{"router"};
  SpdlogPluginLogger sinkLogger{"sink"};
  host::PluginPtr<plugin::Storage> storage;
  bool storageOpen = false;
  host::PluginPtr<plugin::Runtime> runtime;
  host::PluginPtr<plugin::Router> router;
  host::PluginPtr<plugin::Sink> sink;         // only with --sink
  std::unique_ptr<Forwarder> forwarder;       // only with --sink
  std::unique_ptr<StorageQuota> quota;        // only with --max-storage-bytes
  host::LiveBus bus;
  std::unique_ptr<RetentionJob> retention;
  std::unique_ptr<DeploymentManager> manager;
  std::unique_ptr<HealthProber> health;
  std::unique_ptr<MetricsSampler> sampler;
  std::unique_ptr<CollectorApiImpl> api;
  // Central mode (--runtime none over a storage with a change feed) instead of manager and api.
  std::unique_ptr<CentralApi> central;
  std::unique_ptr<CentralFeed> centralFeed;
  // What the exporters serve: *api, or *central in central mode.
  host::CollectorApi* served = nullptr;
  std::unique_ptr<exporters::AccessControl> access;  // tokens, Host/Origin checks, audit
  std::unique_ptr<PeriodicTask> tokensPoll;          // re-reads a changed tokens file
  std::unique_ptr<exporters::HttpServer> http;
  std::unique_ptr<exporters::Exporters> exporters;  // REST, SSE hub, /metrics
};

}  // namespace zc::collector
