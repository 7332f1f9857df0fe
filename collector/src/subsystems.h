// The daemon's subsystems, started in this order and stopped in reverse:
//   ConfigSubsystem   options from file, environment and flags -> Services::config
//   PluginSubsystem   scans the plugin folders, freezes the registry, checks every plugin option,
//                     creates and configures the selected storage, runtime and router
//   ListenSubsystem   claims the listen address (a busy port fails before anything starts)
//   StorageSubsystem  opens the storage plugin, runs the retention job
//   PipelineSubsystem the DeploymentManager (discovery, follows, lifecycle), the health prober
//                     and the metrics sampler
//   HttpSubsystem     every route (exporters::registerExporters: REST, SSE, /metrics, /healthz,
//                     pages) on the claimed server, then serving
// initialize() throws Poco::Exception with a one-line reason on failure; uninitialize() is safe
// to call whether or not initialize() ran or completed.
#pragma once

#include <Poco/Util/Subsystem.h>

#include "services.h"

namespace zc::collector {

class ConfigSubsystem final : public Poco::Util::Subsystem {
 public:
  explicit ConfigSubsystem(Services& s) : s_(s) {}
  const char* name() const override { return "config"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override {}

 private:
  Services& s_;
};

class ListenSubsystem final : public Poco::Util::Subsystem {
 public:
  explicit ListenSubsystem(Services& s) : s_(s) {}
  const char* name() const override { return "listen"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override {}  // the HTTP subsystem stops and releases the server

 private:
  Services& s_;
};

// Finds the plugin libraries, opens the ones the command needs and checks every --plugin-opt.
// kList opens every library found (the 'plugins' command) and creates nothing; kCreate opens
// only the selected --storage, --runtime, --router, --sink and the plugins --plugin-opt names,
// then creates and configures the selected ones, so that a bad plugin option stops the start
// before the port is claimed; later subsystems open and connect them.
class PluginSubsystem final : public Poco::Util::Subsystem {
 public:
  enum class Use { kList, kCreate };
  PluginSubsystem(Services& s, Use use) : s_(s), use_(use) {}
  const char* name() const override { return "plugins"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override;  // destroys the plugin objects; libraries stay loaded

 private:
  Services& s_;
  Use use_;
};

class StorageSubsystem final : public Poco::Util::Subsystem {
 public:
  explicit StorageSubsystem(Services& s) : s_(s) {}
  const char* name() const override { return "storage"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override;

 private:
  Services& s_;
};

class PipelineSubsystem final : public Poco::Util::Subsystem {
 public:
  explicit PipelineSubsystem(Services& s) : s_(s) {}
  const char* name() const override { return "pipeline"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override;

 private:
  Services& s_;
};

class HttpSubsystem final : public Poco::Util::Subsystem {
 public:
  explicit HttpSubsystem(Services& s) : s_(s) {}
  const char* name() const override { return "http"; }
  void initialize(Poco::Util::Application& app) override;
  void uninitialize() override;

 private:
  Services& s_;
};

}  // namespace zc::collector
