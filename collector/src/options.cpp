#include "options.h"

#include <Poco/Net/IPAddress.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "zc/exporters/access.h"

namespace zc::collector {
namespace {

namespace fs = std::filesystem;

Status optionError(const std::string& name, const Status& s) {
  return Status::invalidArgument("--" + name + ": " + s.message());
}

std::string absolutePath(const std::string& p, const std::string& cwd) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(cwd) / path;
  return path.lexically_normal().string();
}

Result<bool> parseBool(const std::string& name, const std::string& v) {
  std::string s = v;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off" || s.empty()) return false;
  return Status::invalidArgument("--" + name + ": '" + v + "' is not true or false");
}

Result<uint64_t> parseUnsigned(const std::string& name, const std::string& v, uint64_t min,
                               uint64_t max) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size() || n < min || n > max) {
    return Status::invalidArgument("--" + name + ": '" + v + "' is not a whole number from " +
                                   std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

// A TTL: a duration, or 0 / "forever" to keep data forever.
Result<int64_t> parseTtl(const std::string& name, const std::string& v) {
  if (v == "0" || v == "forever") return int64_t{0};
  auto d = parseDuration(v);
  if (!d.isOk()) return optionError(name, d.status());
  return d.value();
}

// Every plugin-opt.KIND.NAME.KEY in `cfg` (flags, environment and file alike), then the short
// forms for keys no --plugin-opt gave.
Status readPluginOptions(const Poco::Util::AbstractConfiguration& cfg,
                         std::map<std::string, std::map<std::string, std::string>>* out) {
  Poco::Util::AbstractConfiguration::Keys kinds, names, keys;
  cfg.keys(kPluginOptPrefix, kinds);
  for (const auto& kind : kinds) {
    const std::string kindPath = std::string(kPluginOptPrefix) + "." + kind;
    cfg.keys(kindPath, names);
    if (names.empty()) {
      return Status::invalidArgument("--plugin-opt: '" + kind + "' is not KIND.NAME.KEY=VALUE");
    }
    for (const auto& name : names) {
      cfg.keys(kindPath + "." + name, keys);
      if (keys.empty()) {
        return Status::invalidArgument("--plugin-opt: '" + kind + "." + name +
                                       "' is not KIND.NAME.KEY=VALUE");
      }
      for (const auto& key : keys) {
        const std::string full = kindPath + "." + name + "." + key;
        ZC_RETURN_IF_ERROR(parsePluginOpt(full.substr(std::strlen(kPluginOptPrefix) + 1) + "=").status());
        (*out)[kind + "." + name][key] = cfg.getRawString(full);
      }
    }
  }
  auto shortForm = [&](const char* option, const char* plugin, const char* key) -> Status {
    if (!cfg.has(option)) return Status::ok();
    std::string value = cfg.getString(option);
    if (std::string_view(option) == "sync-writes") {
      ZC_ASSIGN_OR_RETURN(bool on, parseBool(option, value));
      value = on ? "true" : "false";
    }
    (*out)[plugin].emplace(key, value);  // an explicit --plugin-opt wins
    return Status::ok();
  };
  if (cfg.has("docker-socket") && cfg.has("runtime-socket") &&
      cfg.getString("docker-socket") != cfg.getString("runtime-socket")) {
    return Status::invalidArgument(
        "--runtime-socket and --docker-socket name different sockets; give one of them");
  }
  ZC_RETURN_IF_ERROR(shortForm("docker-socket", "runtime.docker", "socket"));
  // --runtime-socket and --select-label belong to the runtime in use (docker and podman both
  // take socket and select_labels); with --runtime none they are checked as Docker's.
  const std::string runtimeName = cfg.getString("runtime", "docker");
  const std::string runtimePlugin = "runtime." + (runtimeName == "none" ? "docker" : runtimeName);
  ZC_RETURN_IF_ERROR(shortForm("runtime-socket", runtimePlugin.c_str(), "socket"));
  ZC_RETURN_IF_ERROR(shortForm("select-label", runtimePlugin.c_str(), "select_labels"));
  // --postgres-url is the central storage's with --storage postgres, else the sink's.
  const bool centralStorage = cfg.getString("storage", "") == "postgres";
  ZC_RETURN_IF_ERROR(
      shortForm("postgres-url", centralStorage ? "storage.postgres" : "sink.postgres", "url"));
  ZC_RETURN_IF_ERROR(shortForm("caddy-admin", "router.caddy", "admin_url"));
  ZC_RETURN_IF_ERROR(shortForm("sync-writes", "storage.rocksdb", "sync_writes"));
  return Status::ok();
}

}  // namespace

const std::vector<OptionSpec>& optionSpecs() {
  static const std::vector<OptionSpec> kSpecs = {
      {"config", "FILE", nullptr,
       "Configuration file (.properties, .ini, .json or .xml); keys are the option names."},
      {"listen", "HOST:PORT", "127.0.0.1:7070", "Address of the HTTP server (REST, SSE, /metrics)."},
      {"data-dir", "DIR", "./data", "Folder of the embedded storage (created if missing)."},
      {"storage", "NAME", "rocksdb",
       "Storage plugin: rocksdb (durable), memory (ephemeral), or postgres (central mode, with "
       "--runtime none)."},
      {"plugin-dir", "DIR", nullptr,
       "Folder of plugin libraries (default: next to the binary, the build tree, or the "
       "installed lib/zynd-collector/plugins)."},
      {"retention-logs", "DURATION", "7d", "How long stdout/stderr lines are kept (0 = forever)."},
      {"retention-system", "DURATION", "30d", "How long system lines are kept (0 = forever)."},
      {"retention-metrics", "DURATION", "3d", "How long metric samples are kept (0 = forever)."},
      {"retention-interval", "DURATION", "1h",
       "How often expired data is deleted (the first run is at start-up)."},
      {"runtime", "NAME", "docker",
       "Runtime plugin to follow deployments with (docker, podman), or none."},
      {"plugin-opt", "KIND.NAME.KEY=VALUE", nullptr,
       "An option of one plugin, e.g. storage.rocksdb.block_cache_mb=64; repeatable. "
       "'zynd-collector plugins' lists every plugin's keys. In a configuration file: "
       "plugin-opt.KIND.NAME.KEY = VALUE; in ZC_PLUGIN_OPT: entries separated by ';'."},
      {"host-id", "NAME", nullptr,
       "This host's name in a fleet: in /healthz, every deployment row of the API, the host "
       "label of zynd_collector_info and every row a sink forwards. Default: the hostname."},
      {"advertise-url", "URL", nullptr,
       "The http(s) URL other parts of the fleet reach this collector at (shown in /healthz)."},
      {"select-label", "KEY=VALUE", nullptr,
       "Follow only containers carrying this label (the engine filters); repeatable, all must "
       "match. Lets several collectors share one engine. In the environment or a file: a comma "
       "list. Short for --plugin-opt runtime.<--runtime>.select_labels=K=V,..."},
      {"sink", "NAME", "none",
       "Sink plugin that receives a copy of every committed row, line and sample (e.g. "
       "postgres), or none."},
      {"postgres-url", "URL", nullptr,
       "PostgreSQL connection (libpq conninfo or postgresql:// URI) of the postgres sink, or "
       "of the postgres storage with --storage postgres (central mode); short for --plugin-opt "
       "sink.postgres.url=URL (storage.postgres.url)."},
      {"runtime-socket", "PATH", nullptr,
       "The engine's Unix socket for the runtime in use (short for --plugin-opt "
       "runtime.<--runtime>.socket=PATH). Default: the runtime's own (docker: "
       "/var/run/docker.sock, podman: /run/podman/podman.sock)."},
      {"docker-socket", "PATH", "/var/run/docker.sock",
       "The Docker engine's Unix socket (short for --plugin-opt runtime.docker.socket=PATH; the "
       "older spelling of --runtime-socket for --runtime docker)."},
      {"max-line-bytes", "BYTES", "1048576",
       "Longest log line kept; longer lines keep their head and are marked truncated."},
      {"max-page-bytes", "BYTES", "4194304",
       "Largest body of one logs page (GET .../logs); the page stops before the line that would "
       "pass it (its first line is always sent) and nextSince continues from there."},
      {"max-storage-bytes", "BYTES", nullptr,
       "Most bytes the store may hold; past it the oldest stdout/stderr lines are dropped (a "
       "[GAP] storage quota line in each deployment that lost some). Default: no quota."},
      {"max-streams-per-client", "N", "32",
       "Log streams (SSE) one client may hold open at once: a token, or an address without a "
       "token; beyond it 503 with Retry-After."},
      {"sse-threads", "N", "1",
       "Threads that write the log streams (SSE), 1-16; each stream lives on one of them. More "
       "than one helps only with hundreds of streams and a core to spare."},
      {"sync-writes", "BOOL", "false",
       "fsync every storage write (survives power loss, not only a process crash); short for "
       "--plugin-opt storage.rocksdb.sync_writes=BOOL."},
      {"log-level", "LEVEL", "info", "Log level: debug, info, warn or error."},
      {"log-format", "FORMAT", "text",
       "Log lines on stderr: text, or json (one object per line: time, level, logger, message); "
       "times in UTC either way."},
      {"keep-crashed", "BOOL", "false",
       "Keep dead containers of crashed deployments for debugging (DEPLOYER_KEEP_CRASHED_CONTAINERS "
       "also works); otherwise they are removed after --crash-grace."},
      {"crash-grace", "DURATION", "10s", "How long a dead container is kept before removal."},
      {"stop-grace", "DURATION", "10s", "Stop: time between the stop signal and SIGKILL."},
      {"health-interval", "DURATION", "60s", "How often each deployment's /health is probed."},
      {"health-timeout", "DURATION", "2s", "How long a health probe may take."},
      {"health-failures", "N", "3", "Consecutive failed probes that make a deployment unhealthy."},
      {"metrics-interval", "DURATION", "30s",
       "How often CPU and memory are sampled (DEPLOYER_METRICS_INTERVAL_SEC also works)."},
      {"metrics-parallelism", "N", "256",
       "Stats requests in flight at once during a sampling pass, one connection each, all from "
       "the sampler's one thread (the engine answers them together at its next 1 s stats tick; "
       "more containers than this are asked in waves)."},
      {"router", "NAME", "caddy", "Router plugin whose route is removed on stop, or none."},
      {"caddy-admin", "URL", "http://127.0.0.1:2019",
       "Caddy's admin API (short for --plugin-opt router.caddy.admin_url=URL)."},
      {"tokens-file", "FILE", nullptr,
       "Tokens file (see 'zynd-collector token'); with one, every request but GET /healthz and "
       "GET /readyz needs 'Authorization: Bearer <token>'. Default: <data-dir>/tokens when that file exists, else "
       "none. Re-read on SIGHUP and when it changes."},
      {"allowed-hosts", "LIST", nullptr,
       "Comma list of Host header values served (host:port); any other Host gets 421. Default: "
       "localhost, 127.0.0.1, [::1], the listen host and this machine's name, with the listen "
       "port."},
      {"audit-log", "FILE", nullptr,
       "Where refused and mutating requests are logged, one JSON line each. Default: "
       "<data-dir>/audit.log."},
      {"session-ttl", "DURATION", "12h",
       "How long a pages' login (POST /api/session, a cookie session made from a token) lasts."},
      {"allow-unauthenticated", nullptr, nullptr,
       "Serve a non-loopback --listen without a tokens file (otherwise the start is refused)."},
      {"tls-cert", "FILE", nullptr,
       "PEM certificate chain (leaf first): serve HTTPS instead of HTTP (TLS 1.2 at least). "
       "Needs --tls-key. Re-read on SIGHUP; a bad new pair keeps the old one."},
      {"tls-key", "FILE", nullptr, "PEM private key (unencrypted) of --tls-cert."},
      {"tls-client-ca", "FILE", nullptr,
       "PEM CA certificates: require every client to present a certificate they signed "
       "(mutual TLS). Needs --tls-cert."},
      {"max-connections-per-peer", "N", "64",
       "Open HTTP connections allowed from one peer address; beyond: 503 + Retry-After "
       "(closed at once over TLS). 0 = no cap."},
      {"web-dir", "DIR", nullptr,
       "Folder of the built pages (default: the build tree's web/dist or the installed "
       "share/zynd-collector/web)."},
  };
  return kSpecs;
}

std::string envNameFor(const std::string& option) {
  std::string out = "ZC_";
  for (char c : option) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

Result<std::pair<std::string, std::string>> parsePluginOpt(const std::string& text,
                                                           std::string_view source) {
  auto bad = [&](const std::string& why) {
    return Status::invalidArgument(std::string(source) + ": '" + text + "' " + why);
  };
  auto eq = text.find('=');
  if (eq == std::string::npos) return bad("is not KIND.NAME.KEY=VALUE");
  std::string path = text.substr(0, eq);
  auto d1 = path.find('.');
  auto d2 = d1 == std::string::npos ? d1 : path.find('.', d1 + 1);
  if (d2 == std::string::npos || path.find('.', d2 + 1) != std::string::npos) {
    return bad("is not KIND.NAME.KEY=VALUE");
  }
  std::string kind = path.substr(0, d1);
  if (kind != "runtime" && kind != "storage" && kind != "router" && kind != "sink") {
    return bad("names no plugin kind (runtime, storage, router or sink)");
  }
  auto word = [](std::string_view w) {
    return !w.empty() && w.size() <= 64 && std::all_of(w.begin(), w.end(), [](unsigned char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  };
  if (!word(std::string_view(path).substr(d1 + 1, d2 - d1 - 1)) ||
      !word(std::string_view(path).substr(d2 + 1))) {
    return bad("has a NAME or KEY that is not [a-z0-9_]");
  }
  return std::make_pair(std::string(kPluginOptPrefix) + "." + path, text.substr(eq + 1));
}

Result<std::map<std::string, std::string>> optionsFromEnvironment(
    const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> out;
  for (const auto& spec : optionSpecs()) {
    if (std::string_view(spec.name) == kPluginOptPrefix) continue;
    auto it = env.find(envNameFor(spec.name));
    if (it != env.end()) out[spec.name] = it->second;
  }
  if (auto it = env.find(envNameFor(kPluginOptPrefix)); it != env.end()) {
    std::string entry;
    std::string list = it->second + ";";
    for (char c : list) {
      if (c != ';' && c != '\n') {
        entry += c;
        continue;
      }
      auto first = entry.find_first_not_of(" \t\r");
      if (first != std::string::npos) {
        ZC_ASSIGN_OR_RETURN(auto parsed,
                            parsePluginOpt(entry.substr(first), envNameFor(kPluginOptPrefix)));
        out[parsed.first] = parsed.second;
      }
      entry.clear();
    }
  }
  // The existing deployer's names; ZC_* names win when both are set.
  if (auto it = env.find("DEPLOYER_KEEP_CRASHED_CONTAINERS");
      it != env.end() && !out.count("keep-crashed")) {
    out["keep-crashed"] = it->second;
  }
  if (auto it = env.find("DEPLOYER_METRICS_INTERVAL_SEC");
      it != env.end() && !out.count("metrics-interval")) {
    out["metrics-interval"] = it->second + "s";
  }
  if (auto it = env.find("DEPLOYER_METRIC_RETENTION_DAYS");
      it != env.end() && !out.count("retention-metrics")) {
    out["retention-metrics"] = it->second == "0" ? "0" : it->second + "d";
  }
  return out;
}

std::vector<std::string> existingFoldersNear(const std::string& exeDir,
                                             std::initializer_list<const char*> relatives) {
  std::vector<std::string> dirs;
  for (const char* rel : relatives) {
    std::error_code ec;
    fs::path p = (fs::path(exeDir) / rel).lexically_normal();
    if (fs::is_directory(p, ec)) dirs.push_back(p.string());
  }
  return dirs;
}

std::vector<std::string> defaultPluginDirs(const std::string& exeDir) {
  return existingFoldersNear(exeDir, {"plugins", "../plugins", "../lib/zynd-collector/plugins"});
}

std::string defaultWebDir(const std::string& exeDir) {
  auto dirs = existingFoldersNear(exeDir, {"../web/dist", "../share/zynd-collector/web"});
  return dirs.empty() ? "" : dirs.front();
}

std::string tokensFileForCommand(const CollectorConfig& config) {
  return config.tokensFile.empty() ? config.dataDir + "/tokens" : config.tokensFile;
}

std::string tokensFileInUse(const CollectorConfig& config) {
  if (!config.tokensFile.empty()) return config.tokensFile;
  std::error_code ec;
  std::string fallback = config.dataDir + "/tokens";
  return fs::exists(fallback, ec) ? fallback : std::string();
}

Status checkListenExposure(const CollectorConfig& config) {
  bool loopback = false;
  try {
    loopback = Poco::Net::IPAddress(config.listenHost).isLoopback();
  } catch (const Poco::Exception&) {
    loopback = false;
  }
  if (loopback || config.allowUnauthenticated || !tokensFileInUse(config).empty()) {
    return Status::ok();
  }
  return Status::invalidArgument("--listen: " + config.listenHost +
                                 " is not a loopback address and no tokens file is in use; "
                                 "add tokens (zynd-collector token add) or pass "
                                 "--allow-unauthenticated");
}

Result<CollectorConfig> loadCollectorConfig(const Poco::Util::AbstractConfiguration& cfg,
                                            const std::string& exeDir, const std::string& cwd) {
  CollectorConfig c;
  auto get = [&](const char* name, const char* fallback) {
    return cfg.getString(name, fallback ? fallback : "");
  };

  {
    std::string listen = get("listen", "127.0.0.1:7070");
    try {
      Poco::Net::SocketAddress addr(listen);
      c.listenHost = addr.host().toString();
      c.listenPort = addr.port();
    } catch (const Poco::Exception& e) {
      return Status::invalidArgument("--listen: '" + listen + "' is not HOST:PORT (" +
                                     e.displayText() + ")");
    }
  }
  std::string dataDir = get("data-dir", "./data");
  if (dataDir.empty()) return Status::invalidArgument("--data-dir: must not be empty");
  c.dataDir = absolutePath(dataDir, cwd);

  c.storage = get("storage", "rocksdb");
  if (c.storage.empty()) return Status::invalidArgument("--storage: must name a storage plugin");

  std::string pluginDir = get("plugin-dir", nullptr);
  if (!pluginDir.empty()) {
    std::error_code ec;
    std::string abs = absolutePath(pluginDir, cwd);
    if (!fs::is_directory(abs, ec)) {
      return Status::invalidArgument("--plugin-dir: '" + pluginDir + "' is not a folder");
    }
    c.pluginDirs.push_back(abs);
  } else {
    c.pluginDirs = defaultPluginDirs(exeDir);
    if (c.pluginDirs.empty()) {
      return Status::invalidArgument("--plugin-dir: no plugin folder found next to " + exeDir +
                                     "; pass --plugin-dir");
    }
  }

  ZC_ASSIGN_OR_RETURN(c.retention.logsTtl, parseTtl("retention-logs", get("retention-logs", "7d")));
  ZC_ASSIGN_OR_RETURN(c.retention.systemTtl,
                      parseTtl("retention-system", get("retention-system", "30d")));
  ZC_ASSIGN_OR_RETURN(c.retention.metricsTtl,
                      parseTtl("retention-metrics", get("retention-metrics", "3d")));
  {
    auto d = parseDuration(get("retention-interval", "1h"));
    if (!d.isOk()) return optionError("retention-interval", d.status());
    c.retentionIntervalNs = d.value();
  }

  c.runtime = get("runtime", "docker");
  ZC_ASSIGN_OR_RETURN(c.maxLineBytes, parseUnsigned("max-line-bytes", get("max-line-bytes", "1048576"),
                                                    1024, 64ull << 20));
  ZC_ASSIGN_OR_RETURN(c.maxPageBytes, parseUnsigned("max-page-bytes", get("max-page-bytes", "4194304"),
                                                    65536, 1ull << 30));
  if (std::string quota = get("max-storage-bytes", ""); !quota.empty() && quota != "none") {
    ZC_ASSIGN_OR_RETURN(c.maxStorageBytes,
                        parseUnsigned("max-storage-bytes", quota, 1ull << 20, 1ull << 60));
  }
  ZC_ASSIGN_OR_RETURN(c.maxStreamsPerClient,
                      parseUnsigned("max-streams-per-client", get("max-streams-per-client", "32"),
                                    1, 100000));
  ZC_ASSIGN_OR_RETURN(c.sseThreads, parseUnsigned("sse-threads", get("sse-threads", "1"), 1, 16));
  ZC_RETURN_IF_ERROR(readPluginOptions(cfg, &c.pluginOptions));
  auto duration = [&](const char* name, const char* fallback, int64_t& into) -> Status {
    auto d = parseDuration(get(name, fallback));
    if (!d.isOk()) return optionError(name, d.status());
    into = d.value();
    return Status::ok();
  };
  ZC_ASSIGN_OR_RETURN(c.keepCrashed, parseBool("keep-crashed", get("keep-crashed", "false")));
  ZC_RETURN_IF_ERROR(duration("crash-grace", "10s", c.crashGraceNs));
  ZC_RETURN_IF_ERROR(duration("stop-grace", "10s", c.stopGraceNs));
  ZC_RETURN_IF_ERROR(duration("session-ttl", "12h", c.sessionTtlNs));
  ZC_RETURN_IF_ERROR(duration("health-interval", "60s", c.healthIntervalNs));
  ZC_RETURN_IF_ERROR(duration("health-timeout", "2s", c.healthTimeoutNs));
  ZC_RETURN_IF_ERROR(duration("metrics-interval", "30s", c.metricsIntervalNs));
  {
    auto n = parseUnsigned("health-failures", get("health-failures", "3"), 1, 1000);
    if (!n.isOk()) return n.status();
    c.healthFailures = static_cast<int>(n.value());
  }
  ZC_ASSIGN_OR_RETURN(c.metricsParallelism,
                      parseUnsigned("metrics-parallelism", get("metrics-parallelism", "256"), 1, 512));
  std::string webDir = get("web-dir", nullptr);
  if (!webDir.empty()) {
    std::error_code ec;
    c.webDir = absolutePath(webDir, cwd);
    if (!fs::is_regular_file(c.webDir + "/index.html", ec)) {
      return Status::invalidArgument("--web-dir: '" + webDir + "' has no index.html");
    }
  } else {
    c.webDir = defaultWebDir(exeDir);
  }
  if (std::string t = get("tokens-file", nullptr); !t.empty()) c.tokensFile = absolutePath(t, cwd);
  if (std::string hosts = get("allowed-hosts", nullptr); !hosts.empty()) {
    auto parsed = exporters::parseAllowedHosts(hosts);
    if (!parsed.isOk()) return optionError("allowed-hosts", parsed.status());
    c.allowedHosts = std::move(parsed).value();
  }
  {
    std::string audit = get("audit-log", nullptr);
    c.auditLog = audit.empty() ? c.dataDir + "/audit.log" : absolutePath(audit, cwd);
  }
  {
    std::string cert = get("tls-cert", nullptr);
    std::string key = get("tls-key", nullptr);
    std::string ca = get("tls-client-ca", nullptr);
    if (cert.empty() != key.empty()) {
      return Status::invalidArgument(cert.empty() ? "--tls-key: needs --tls-cert"
                                                  : "--tls-cert: needs --tls-key");
    }
    if (!ca.empty() && cert.empty()) {
      return Status::invalidArgument("--tls-client-ca: needs --tls-cert and --tls-key");
    }
    if (!cert.empty()) c.tlsCert = absolutePath(cert, cwd);
    if (!key.empty()) c.tlsKey = absolutePath(key, cwd);
    if (!ca.empty()) c.tlsClientCa = absolutePath(ca, cwd);
  }
  ZC_ASSIGN_OR_RETURN(c.maxConnectionsPerPeer,
                      parseUnsigned("max-connections-per-peer",
                                    get("max-connections-per-peer", "64"), 0, 1000000));
  if (cfg.has("allow-unauthenticated")) {
    // A switch on the command line (no value); true/false in the environment or a file.
    std::string v = cfg.getString("allow-unauthenticated");
    if (v.empty()) {
      c.allowUnauthenticated = true;
    } else {
      ZC_ASSIGN_OR_RETURN(c.allowUnauthenticated, parseBool("allow-unauthenticated", v));
    }
  }
  c.router = get("router", "caddy");
  c.sink = get("sink", "none");
  ZC_RETURN_IF_ERROR(readHostIdentity(get("host-id", nullptr), get("advertise-url", nullptr), &c));
  c.logFormat = get("log-format", "text");
  if (c.logFormat != "text" && c.logFormat != "json") {
    return Status::invalidArgument("--log-format: '" + c.logFormat + "' is not text or json");
  }
  c.logLevel = get("log-level", "info");
  if (c.logLevel != "debug" && c.logLevel != "info" && c.logLevel != "warn" && c.logLevel != "error") {
    return Status::invalidArgument("--log-level: '" + c.logLevel + "' is not debug, info, warn or error");
  }
  return c;
}

std::string executableDir(const std::string& fallback) {
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec || !exe.has_parent_path()) return fallback;
  return exe.parent_path().string();
}

Status checkConfigFileKeys(const Poco::Util::AbstractConfiguration& file, const std::string& path) {
  Poco::Util::AbstractConfiguration::Keys keys;
  file.keys(keys);
  for (const std::string& key : keys) {
    if (key == kPluginOptPrefix) continue;  // its entries are checked with the plugins' keys
    bool known = key != "config" &&
                 std::any_of(optionSpecs().begin(), optionSpecs().end(),
                             [&](const OptionSpec& s) { return key == s.name; });
    if (!known) {
      return Status::invalidArgument("--config: '" + path + "': unknown option '" + key +
                                     "' (keys are the option names of --help; plugin options "
                                     "are plugin-opt.KIND.NAME.KEY)");
    }
  }
  return Status::ok();
}

}  // namespace zc::collector
