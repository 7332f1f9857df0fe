#include "subsystems.h"

#include "log_format.h"

#include <Poco/Exception.h>
#include <Poco/Net/DNS.h>
#include <Poco/Util/Application.h>
#include <Poco/Util/IniFileConfiguration.h>
#include <Poco/Util/JSONConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>
#include <Poco/Util/XMLConfiguration.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>

extern char** environ;

namespace zc::collector {
namespace {

[[noreturn]] void fail(const std::string& what, const Status& s) {
  throw Poco::Exception(what + ": " + s.toString());
}

std::map<std::string, std::string> processEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// The options of the plugin `lib`: the operator's --plugin-opt KIND.NAME.* values, plus each of
// the host's standard keys for its kind (storage: data_dir; runtime: max_line_bytes) that the
// plugin declares and the operator did not give.
std::map<std::string, std::string> optionsFor(const Services& s, const host::PluginLibrary& lib,
                                              const std::vector<plugin::OptionSpec>& specs) {
  std::map<std::string, std::string> options;
  const std::string id = std::string(host::kindName(lib.kind())) + "." + std::string(lib.name());
  if (auto it = s.config.pluginOptions.find(id); it != s.config.pluginOptions.end()) {
    options = it->second;
  }
  std::map<std::string, std::string> standard;
  if (lib.kind() == ZC_PLUGIN_KIND_STORAGE) standard["data_dir"] = s.config.dataDir;
  if (lib.kind() == ZC_PLUGIN_KIND_RUNTIME) {
    standard["max_line_bytes"] = std::to_string(s.config.maxLineBytes);
  }
  for (const auto& spec : specs) {
    if (auto it = standard.find(spec.key); it != standard.end()) options.emplace(*it);
  }
  return options;
}

std::vector<plugin::OptionSpec> specsOf(const Services& s, const host::PluginLibrary& lib) {
  auto specs = s.plugins.optionSpecs(lib);
  if (!specs.isOk()) fail("plugin " + lib.path, specs.status());
  return std::move(specs).value();
}

// Creates and configures plugin `name` of the kind of T with optionsFor() it; the logger is
// tagged with the plugin's role. A refused option stops the start naming it as --plugin-opt.
template <typename T>
host::PluginPtr<T> createPlugin(Services& s, SpdlogPluginLogger& logger, const std::string& name,
                                const char* flag) {
  plugin::PluginContext ctx;
  ctx.logger = &logger;
  ctx.clock = s.clock;
  if (const host::PluginLibrary* lib = s.plugins.find(T::kKind, name)) {
    ctx.options = optionsFor(s, *lib, specsOf(s, *lib));
  }
  auto created = s.plugins.create<T>(name, ctx);
  if (!created.isOk()) {
    if (created.status().code() == Status::Code::kInvalidArgument) {
      throw Poco::Exception("--plugin-opt " + created.status().message());
    }
    fail(flag, created.status());
  }
  return std::move(created).value();
}

// Every SSE stream, HTTP connection, follow and RocksDB file holds a descriptor: a service's
// usual soft limit of 1,024 would run out near the SSE hub's 1,024 streams. Raises the soft limit
// to the hard one (which needs no privilege).
void raiseOpenFileLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    spdlog::debug("open file limit raised from {} to {}", was, rl.rlim_cur);
  }
  if (rl.rlim_cur < 4096) {
    spdlog::warn("open file limit is {}: the collector may run out of descriptors with many "
                 "streams and containers (raise it, e.g. LimitNOFILE=65536)", rl.rlim_cur);
  }
}

// The kind and name of a --plugin-opt id "KIND.NAME" (parsePluginOpt() admits four kinds only).
std::pair<ZcPluginKind, std::string> pluginOfOption(const std::string& id) {
  const std::string kind = id.substr(0, id.find('.'));
  const ZcPluginKind kindValue = kind == "runtime"   ? ZC_PLUGIN_KIND_RUNTIME
                                 : kind == "storage" ? ZC_PLUGIN_KIND_STORAGE
                                 : kind == "sink"    ? ZC_PLUGIN_KIND_SINK
                                                     : ZC_PLUGIN_KIND_ROUTER;
  return {kindValue, id.substr(kind.size() + 1)};
}

// The plugins a start uses: the selected ones and every one a --plugin-opt names (its options
// are checked even when it is not selected).
std::vector<std::pair<ZcPluginKind, std::string>> pluginsInUse(const CollectorConfig& cfg) {
  std::vector<std::pair<ZcPluginKind, std::string>> used = {{ZC_PLUGIN_KIND_STORAGE, cfg.storage}};
  if (cfg.runtime != "none") used.emplace_back(ZC_PLUGIN_KIND_RUNTIME, cfg.runtime);
  if (cfg.router != "none") used.emplace_back(ZC_PLUGIN_KIND_ROUTER, cfg.router);
  if (cfg.sink != "none") used.emplace_back(ZC_PLUGIN_KIND_SINK, cfg.sink);
  for (const auto& entry : cfg.pluginOptions) used.push_back(pluginOfOption(entry.first));
  return used;
}

// Every --plugin-opt names a loaded plugin and only keys it declares, with good values, whether
// or not that plugin is the one selected: a typo never passes silently.
void checkPluginOptions(const Services& s) {
  for (const auto& [id, options] : s.config.pluginOptions) {
    const auto [kind, name] = pluginOfOption(id);
    auto found = s.plugins.lookup(kind, name);
    if (!found.isOk()) throw Poco::Exception("--plugin-opt " + id + ": " + found.status().message());
    const host::PluginLibrary* lib = *found;
    auto specs = specsOf(s, *lib);
    auto values = plugin::OptionValues::parse(specs, optionsFor(s, *lib, specs));
    if (!values.isOk()) throw Poco::Exception("--plugin-opt " + id + "." + values.status().message());
  }
}

// A configuration file by its extension, as Poco::Util::Application::loadConfiguration() reads
// it: .properties, .ini, .json or .xml. Throws "--config: '<file>': <reason>".
Poco::AutoPtr<Poco::Util::AbstractConfiguration> readConfigFile(const std::string& file) {
  const std::string ext = std::filesystem::path(file).extension().string();
  try {
    if (ext == ".properties") return new Poco::Util::PropertyFileConfiguration(file);
    if (ext == ".ini") return new Poco::Util::IniFileConfiguration(file);
    if (ext == ".json") return new Poco::Util::JSONConfiguration(file);
    if (ext == ".xml") return new Poco::Util::XMLConfiguration(file);
  } catch (const Poco::Exception& e) {
    throw Poco::Exception("--config: '" + file + "': " + e.displayText());
  }
  throw Poco::Exception("--config: '" + file +
                        "': not .properties, .ini, .json or .xml (the extension says which)");
}

}  // namespace

void SpdlogPluginLogger::log(plugin::LogLevel level, std::string_view message) noexcept {
  try {
    switch (level) {
      case plugin::LogLevel::kDebug: spdlog::debug("[{}] {}", tag_, message); break;
      case plugin::LogLevel::kInfo: spdlog::info("[{}] {}", tag_, message); break;
      case plugin::LogLevel::kWarn: spdlog::warn("[{}] {}", tag_, message); break;
      case plugin::LogLevel::kError: spdlog::error("[{}] {}", tag_, message); break;
    }
  } catch (...) {
    // Logging must never take the collector down; a lost log message is the lesser evil.
  }
}

void ConfigSubsystem::initialize(Poco::Util::Application& app) {
  auto& cfg = app.config();
  auto env = processEnvironment();
  // The environment sits between the flags (PRIO_APPLICATION) and a configuration file.
  Poco::AutoPtr<Poco::Util::MapConfiguration> envConfig(new Poco::Util::MapConfiguration);
  auto fromEnv = optionsFromEnvironment(env);
  if (!fromEnv.isOk()) throw Poco::Exception(fromEnv.status().message());
  for (const auto& [k, v] : *fromEnv) envConfig->setString(k, v);
  cfg.add(envConfig, Poco::Util::Application::PRIO_APPLICATION + 50, false);

  std::string file = cfg.getString("config", "");
  if (!file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      throw Poco::Exception("--config: '" + file + "' is not a readable file");
    }
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> fileConfig = readConfigFile(file);
    if (Status st = checkConfigFileKeys(*fileConfig, file); !st.isOk()) {
      throw Poco::Exception(st.message());
    }
    cfg.add(fileConfig, Poco::Util::Application::PRIO_DEFAULT, false);
  }
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) throw Poco::Exception("cannot read the working directory");
  auto loaded = loadCollectorConfig(cfg, executableDir(cfg.getString("application.dir", ".")), cwd);
  if (!loaded.isOk()) throw Poco::Exception(loaded.status().message());
  s_.config = std::move(loaded).value();
  spdlog::set_level(spdlog::level::from_str(s_.config.logLevel));
  Status format = setLogFormat(s_.config.logFormat);
  if (!format.isOk()) throw Poco::Exception(format.message());
  raiseOpenFileLimit();
}

void PluginSubsystem::initialize(Poco::Util::Application&) {
  for (const std::string& dir : s_.config.pluginDirs) {
    Status st = s_.plugins.scanDirectory(dir);
    if (!st.isOk()) spdlog::warn("plugins: {}", st.toString());
  }
  // The registry is frozen below: whatever is used later must be opened here.
  if (use_ == Use::kList) {
    (void)s_.plugins.openAll();  // not frozen yet; refusals are recorded
  } else {
    for (const auto& [kind, name] : pluginsInUse(s_.config)) {
      (void)s_.plugins.open(kind, name);  // a missing plugin is reported by name below
    }
  }
  for (const auto& r : s_.plugins.refused()) {
    spdlog::warn("plugin {} refused: {}", r.path, r.reason);
  }
  s_.plugins.freeze();
  for (const auto& p : s_.plugins.plugins()) {
    spdlog::debug("plugin {} {} {} from {}", host::kindName(p.kind()), p.name(), p.version(), p.path);
  }
  for (const auto& d : s_.plugins.deferred()) {
    spdlog::debug("plugin {} {} not in use, {} not opened", host::kindName(d.kind), d.name, d.path);
  }
  checkPluginOptions(s_);
  if (use_ == Use::kList) return;
  const CollectorConfig& cfg = s_.config;
  s_.storage = createPlugin<plugin::Storage>(s_, s_.storageLogger, cfg.storage, "--storage");
  if (cfg.runtime != "none") {
    s_.runtime = createPlugin<plugin::Runtime>(s_, s_.runtimeLogger, cfg.runtime, "--runtime");
  }
  if (cfg.router != "none") {
    s_.router = createPlugin<plugin::Router>(s_, s_.routerLogger, cfg.router, "--router");
  }
  if (cfg.sink != "none") {
    s_.sink = createPlugin<plugin::Sink>(s_, s_.sinkLogger, cfg.sink, "--sink");
  }
}

void PluginSubsystem::uninitialize() {
  s_.sink.reset();
  s_.router.reset();
  s_.runtime.reset();
  s_.storage.reset();
}

void StorageSubsystem::initialize(Poco::Util::Application&) {
  Status st = s_.storage->open();
  if (!st.isOk()) fail("storage '" + s_.config.storage + "' at " + s_.config.dataDir, st);
  s_.storageOpen = true;
  s_.storage->setRetentionPolicy(s_.config.retention);
  s_.retention = std::make_unique<RetentionJob>(*s_.storage, s_.config.retentionIntervalNs);
  s_.retention->start();
  spdlog::info("storage {} open at {}", s_.config.storage, s_.config.dataDir);
}

void StorageSubsystem::uninitialize() {
  if (s_.retention) s_.retention->stop();
  s_.retention.reset();
  if (s_.storage && s_.storageOpen) {
    Status st = s_.storage->close();
    if (!st.isOk()) spdlog::error("closing storage: {}", st.toString());
    s_.storageOpen = false;
  }
}

void PipelineSubsystem::initialize(Poco::Util::Application&) {
  const CollectorConfig& cfg = s_.config;
  if (!s_.runtime && !s_.sink && hasChangeFeed(*s_.storage)) {
    // Central mode: no engine, nothing of our own to follow; storage is filled by the hosts.
    s_.central = std::make_unique<CentralApi>(
        *s_.storage, s_.bus, s_.retention.get(),
        CentralApi::Identity{cfg.hostId, cfg.advertiseUrl, cfg.storage});
    s_.served = s_.central.get();
    s_.centralFeed = std::make_unique<CentralFeed>(*s_.storage, s_.bus);
    s_.centralFeed->start();
    spdlog::info("central mode: serving every host's deployments from storage {}", cfg.storage);
    return;
  }
  LifecycleOptions lifecycle;
  lifecycle.keepCrashed = cfg.keepCrashed;
  lifecycle.crashGrace = std::chrono::milliseconds(cfg.crashGraceNs / 1'000'000);
  lifecycle.stopGrace = std::chrono::seconds(std::max<int64_t>(1, cfg.stopGraceNs / kNanosPerSecond));
  lifecycle.healthFailures = cfg.healthFailures;
  s_.manager = std::make_unique<DeploymentManager>(*s_.storage, s_.runtime.get(), s_.router.get(),
                                                   s_.bus, *s_.clock, lifecycle);
  Status st = s_.manager->start();
  if (!st.isOk()) fail("pipeline", st);
  s_.api = std::make_unique<CollectorApiImpl>(*s_.manager, *s_.storage, s_.bus, s_.retention.get());
  s_.served = s_.api.get();
  if (s_.runtime) {
    HealthOptions health;
    health.interval = std::chrono::milliseconds(cfg.healthIntervalNs / 1'000'000);
    health.timeout = std::chrono::milliseconds(cfg.healthTimeoutNs / 1'000'000);
    s_.health = std::make_unique<HealthProber>(*s_.manager, health);
    s_.health->start();
    SamplerOptions sampler;
    sampler.interval = std::chrono::milliseconds(cfg.metricsIntervalNs / 1'000'000);
    sampler.maxInFlight = static_cast<size_t>(cfg.metricsParallelism);
    s_.sampler = std::make_unique<MetricsSampler>(*s_.manager, *s_.runtime, *s_.storage, sampler);
    s_.sampler->start();
  }
  if (s_.sink) {
    // The sink is opened by the forwarder's thread: one that is away (or refuses the
    // credentials) costs one log line, never the start; lines keep landing in local storage.
    plugin::SinkHostInfo host{cfg.hostId, cfg.advertiseUrl, ZC_VERSION};
    s_.forwarder = std::make_unique<Forwarder>(*s_.storage, *s_.sink, host, *s_.clock);
    // A DELETE served by a central instance comes back as a stop recorded at the sink's end.
    s_.forwarder->setStopHandler([this](const std::string& id) {
      return s_.manager->requestStop(id, "the central instance").status();
    });
    s_.forwarder->start();
    // Committed lines go to the sink at once rather than at the forwarder's next interval.
    Forwarder* forwarder = s_.forwarder.get();
    s_.bus.setLinesCallback([forwarder] { forwarder->wake(); });
  }
  if (cfg.maxStorageBytes > 0) {
    QuotaOptions quota;
    quota.maxBytes = cfg.maxStorageBytes;
    DeploymentManager* manager = s_.manager.get();
    Forwarder* forwarder = s_.forwarder.get();
    StorageQuota::ForwardedThrough forwarded;
    if (forwarder != nullptr) {
      forwarded = [forwarder](const std::string& id) { return forwarder->acknowledgedLineNo(id); };
    }
    s_.quota = std::make_unique<StorageQuota>(
        *s_.storage,
        [manager](const std::string& id, std::string text) {
          return manager->appendSystemLine(id, std::move(text));
        },
        std::move(forwarded), quota);
    s_.quota->start();
    s_.api->setQuota(s_.quota.get());
  }
}

void PipelineSubsystem::uninitialize() {
  if (s_.quota) s_.quota->stop();  // before the forwarder and the manager its passes use
  if (s_.api) s_.api->setQuota(nullptr);
  s_.quota.reset();
  if (s_.centralFeed) s_.centralFeed->stop();
  s_.centralFeed.reset();
  s_.served = nullptr;
  s_.central.reset();
  s_.bus.setLinesCallback(nullptr);  // before the forwarder it wakes goes
  if (s_.forwarder) s_.forwarder->stop();
  s_.forwarder.reset();
  if (s_.sink) {
    Status st = s_.sink->close();
    if (!st.isOk()) spdlog::warn("closing sink: {}", st.toString());
  }
  if (s_.health) s_.health->stop();
  if (s_.sampler) s_.sampler->stop();
  s_.health.reset();
  s_.sampler.reset();
  s_.api.reset();
  if (s_.manager) s_.manager->stop();
  s_.manager.reset();
}

void ListenSubsystem::initialize(Poco::Util::Application&) {
  // Before anything is bound: an exposed port without tokens is refused unless asked for.
  if (Status st = checkListenExposure(s_.config); !st.isOk()) {
    throw Poco::Exception(st.message());
  }
  if (std::string tokens = tokensFileInUse(s_.config); !tokens.empty()) {
    auto read = exporters::readTokensFile(tokens);  // a bad file stops the start here
    if (!read.isOk()) throw Poco::Exception("--tokens-file: " + read.status().message());
  }
  exporters::HttpServerOptions opts;
  opts.host = s_.config.listenHost;
  opts.port = s_.config.listenPort;
  opts.maxConnectionsPerPeer = static_cast<size_t>(s_.config.maxConnectionsPerPeer);
  opts.tls = {s_.config.tlsCert, s_.config.tlsKey, s_.config.tlsClientCa};
  s_.http = std::make_unique<exporters::HttpServer>(opts);
  Status st = s_.http->bind();  // reads the TLS files first
  if (st.code() == Status::Code::kInvalidArgument) throw Poco::Exception("TLS: " + st.message());
  if (!st.isOk()) fail("--listen", st);
}

namespace {

// The access checks for the bound port: tokens (when a file is in use), allowed hosts, audit log;
// and the poll that re-reads a changed tokens file about every second.
void startAccess(Services& s, uint16_t port) {
  const CollectorConfig& cfg = s.config;
  exporters::AccessOptions access;
  access.tokensFile = tokensFileInUse(cfg);
  access.allowedHosts = cfg.allowedHosts;
  if (access.allowedHosts.empty()) {
    access.allowedHosts =
        exporters::defaultAllowedHosts(cfg.listenHost, port, Poco::Net::DNS::hostName());
  }
  access.auditLog = cfg.auditLog;
  access.sessionTtl = std::chrono::milliseconds(std::max<int64_t>(1, cfg.sessionTtlNs / 1'000'000));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cfg.auditLog).parent_path(), ec);
  auto created = exporters::AccessControl::create(access);
  if (!created.isOk()) {
    fail(access.tokensFile.empty() ? "--audit-log" : "--tokens-file", created.status());
  }
  s.access = std::move(created).value();
  if (s.access->tokensEnabled()) {
    spdlog::info("tokens required (file {}); GET /healthz alone answers without one",
                 access.tokensFile);
    s.tokensPoll = std::make_unique<PeriodicTask>(
        "tokens-poll", std::chrono::seconds(1), [&s] { s.access->pollTokens(); },
        PeriodicTask::FirstRun::kAfterInterval);
    s.tokensPoll->start();
  } else if (cfg.allowUnauthenticated) {
    spdlog::warn("serving {} WITHOUT authentication (--allow-unauthenticated): anyone who can "
                 "reach the port can read every log and stop every deployment",
                 cfg.listenHost);
  }
}

}  // namespace

void HttpSubsystem::initialize(Poco::Util::Application&) {
  if (s_.api) {
    s_.api->setHealthSources({s_.config.storage, s_.config.runtime, s_.runtime != nullptr,
                              s_.sampler.get(), s_.config.hostId, s_.config.advertiseUrl,
                              s_.config.sink, s_.forwarder.get(), s_.config.dataDir,
                              s_.storageOpen});
  }
  exporters::ExporterOptions options;
  options.webDir = s_.config.webDir;
  options.maxPageBytes = s_.config.maxPageBytes;
  options.sse.maxStreamsPerClient = s_.config.maxStreamsPerClient;
  options.sse.threads = s_.config.sseThreads;
  if (options.webDir.empty()) {
    spdlog::warn("pages not served: no built web/dist found (see --web-dir)");
  }
  startAccess(s_, s_.http->port());
  options.access = s_.access.get();
  auto ex = exporters::registerExporters(*s_.http, *s_.served, options);
  if (!ex.isOk()) fail("exporters", ex.status());
  s_.exporters = std::move(ex).value();
  Status st = s_.http->start();
  if (!st.isOk()) fail("--listen", st);
  spdlog::info("listening on {}://{}:{}{}", s_.http->tlsEnabled() ? "https" : "http",
               s_.config.listenHost, s_.http->port(),
               s_.config.tlsClientCa.empty() ? "" : " (client certificates required)");
}

void HttpSubsystem::uninitialize() {
  if (s_.tokensPoll) s_.tokensPoll->stop();
  if (s_.http) s_.http->stop();  // no new requests or streams
  s_.exporters.reset();          // closes every stream, leaves the bus
  s_.http.reset();
  s_.tokensPoll.reset();
  s_.access.reset();  // after the server: its workers used it
}

}  // namespace zc::collector
