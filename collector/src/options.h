// The collector's configuration: one table of options, read from a file, the environment and
// flags (flags win over the environment, the environment over the file), then validated into a
// CollectorConfig. Every bad value is refused with one line that names the option.
#pragma once

#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zc/plugin/storage.h"
#include "zc/status.h"

namespace zc::collector {

// One documented option. `name` is the flag (--name), the config-file key and, upper-cased with
// '-' as '_' and prefixed ZC_, the environment variable.
struct OptionSpec {
  const char* name;
  const char* argName;       // shown in --help; nullptr for a switch without value
  const char* defaultValue;  // shown in --help; nullptr when computed
  const char* help;
};

const std::vector<OptionSpec>& optionSpecs();

// "ZC_DATA_DIR" for "data-dir".
std::string envNameFor(const std::string& option);
// Extra environment names the existing deployer uses, mapped to (option, converter).
// DEPLOYER_METRIC_RETENTION_DAYS=3 means --retention-metrics 3d, and so on. ZC_PLUGIN_OPT holds
// one or more KIND.NAME.KEY=VALUE separated by ';' (or new lines). InvalidArgument for a
// malformed ZC_PLUGIN_OPT entry.
Result<std::map<std::string, std::string>> optionsFromEnvironment(
    const std::map<std::string, std::string>& env);

struct CollectorConfig {
  std::string listenHost = "127.0.0.1";
  uint16_t listenPort = 7070;
  std::string dataDir;  // absolute
  std::string storage = "rocksdb";
  std::vector<std::string> pluginDirs;  // absolute; searched in order
  plugin::RetentionPolicy retention;
  int64_t retentionIntervalNs = 3600 * kNanosPerSecond;
  std::string runtime = "docker";  // a runtime plugin's name, or "none"
  uint64_t maxLineBytes = 1 << 20;
  uint64_t maxPageBytes = 4 << 20;  // the body of one logs page
  uint64_t maxStorageBytes = 0;     // --max-storage-bytes: the store's quota, 0 = none
  uint64_t maxStreamsPerClient = 32;  // SSE streams per token (or address without one)
  uint64_t sseThreads = 1;            // the SSE hub's threads
  std::string logLevel = "info";
  std::string logFormat = "text";  // or "json"
  // Lifecycle.
  bool keepCrashed = false;
  int64_t crashGraceNs = 10 * kNanosPerSecond;
  int64_t stopGraceNs = 10 * kNanosPerSecond;
  int64_t healthIntervalNs = 60 * kNanosPerSecond;
  int64_t healthTimeoutNs = 2 * kNanosPerSecond;
  int healthFailures = 3;
  int64_t metricsIntervalNs = 30 * kNanosPerSecond;
  uint64_t metricsParallelism = 256;
  std::string router = "caddy";  // or "none"
  std::string sink = "none";     // a sink plugin's name (e.g. "postgres"), or "none"
  // Fleet identity: --host-id (default: the hostname; [A-Za-z0-9._-]{1,64}) and --advertise-url
  // (an http or https URL, or empty).
  std::string hostId;
  std::string advertiseUrl;
  // Plugin options by "KIND.NAME" (e.g. "storage.rocksdb"), keys without prefix: every
  // --plugin-opt, plus the short forms (--docker-socket, --caddy-admin, --sync-writes) where
  // the same key was not given as --plugin-opt. Checked against the plugins' declared keys by
  // the plugin subsystem.
  std::map<std::string, std::map<std::string, std::string>> pluginOptions;
  std::string webDir;  // built pages (web/dist); empty = pages not served
  // Access (see zc/exporters/access.h).
  std::string tokensFile;                 // absolute; empty when --tokens-file was not given
  std::vector<std::string> allowedHosts;  // empty: the defaults for the listen address
  std::string auditLog;                   // absolute; default <data-dir>/audit.log
  int64_t sessionTtlNs = 12 * 3600 * kNanosPerSecond;  // --session-ttl
  bool allowUnauthenticated = false;
  // TLS (see zc/exporters/tls.h): absolute paths; an empty tlsCert means plain HTTP. Given
  // together (cert and key), the client CA only with them.
  std::string tlsCert;
  std::string tlsKey;
  std::string tlsClientCa;
  uint64_t maxConnectionsPerPeer = 64;  // 0 = no cap
};

// The tokens file the daemon uses: --tokens-file when given, else <data-dir>/tokens when that
// file exists, else none (empty).
std::string tokensFileInUse(const CollectorConfig& config);
// The file `zynd-collector token` edits: --tokens-file when given, else <data-dir>/tokens.
std::string tokensFileForCommand(const CollectorConfig& config);
// InvalidArgument when the listen address is not loopback and neither a tokens file is in use
// nor --allow-unauthenticated was given.
Status checkListenExposure(const CollectorConfig& config);

// The configuration key of one plugin option: "plugin-opt.KIND.NAME.KEY". --plugin-opt,
// ZC_PLUGIN_OPT and a configuration file all write there.
inline constexpr const char* kPluginOptPrefix = "plugin-opt";

// Checks --host-id and --advertise-url into `config` (an empty id means the hostname).
// InvalidArgument "--host-id: ..." / "--advertise-url: ..." on a bad value.
Status readHostIdentity(const std::string& hostId, const std::string& advertiseUrl,
                        CollectorConfig* config);

// Splits "KIND.NAME.KEY=VALUE" into ("plugin-opt.KIND.NAME.KEY", VALUE). InvalidArgument
// "<source>: ..." when the shape is wrong (KIND runtime|storage|router|sink, NAME and KEY
// [a-z0-9_]{1,64}).
Result<std::pair<std::string, std::string>> parsePluginOpt(const std::string& text,
                                                           std::string_view source = "--plugin-opt");

// Reads and validates every option from `cfg` (keys = option names). `exeDir` is the folder of
// the running binary (for the default plugin dirs); `cwd` makes relative paths absolute.
Result<CollectorConfig> loadCollectorConfig(const Poco::Util::AbstractConfiguration& cfg,
                                            const std::string& exeDir, const std::string& cwd);

// The folders among exeDir/<relative> that exist, in the order given, normalised.
std::vector<std::string> existingFoldersNear(const std::string& exeDir,
                                             std::initializer_list<const char*> relatives);

// The default plugin folders for a binary in `exeDir`: exeDir/plugins, exeDir/../plugins (the
// build tree), exeDir/../lib/zynd-collector/plugins (installed). Only existing ones.
std::vector<std::string> defaultPluginDirs(const std::string& exeDir);

// The default pages folder: exeDir/../web/dist (build tree) or exeDir/../share/zynd-collector/web
// (installed); empty when neither exists.
std::string defaultWebDir(const std::string& exeDir);

// The folder of the running executable with every symbolic link resolved (/proc/self/exe), so
// that a binary reached through a link (e.g. /usr/local/bin -> /opt/...) finds its plugins and
// pages next to its real location; `fallback` when the link cannot be read.
std::string executableDir(const std::string& fallback);

// Every key of a configuration file must be an option name (plugin options as
// plugin-opt.KIND.NAME.KEY): a misspelt key is refused instead of being silently ignored.
// `file` holds that file's keys alone. InvalidArgument "--config: '<path>': unknown option
// '<key>' ..." for the first key that is not one; `config` itself is refused too.
Status checkConfigFileKeys(const Poco::Util::AbstractConfiguration& file, const std::string& path);

}  // namespace zc::collector
