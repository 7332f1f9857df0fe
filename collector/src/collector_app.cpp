#include "collector_app.h"

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionCallback.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionSet.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "log_format.h"
#include "service_notify.h"
#include "subsystems.h"
#include "token_command.h"
#include "zc/exporters/tokens.h"

namespace zc::collector {

CollectorApp::CollectorApp() {
  setUnixOptions(true);
  auto logger = spdlog::stderr_logger_mt("zynd-collector");
  spdlog::set_default_logger(logger);
  (void)setLogFormat("text");  // until the configuration says otherwise
}

void CollectorApp::defineOptions(Poco::Util::OptionSet& options) {
  // ServerApplication's own options (--daemon, --pidfile, --umask) are not offered: the
  // collector runs in the foreground under a supervisor.
  options.addOption(
      Poco::Util::Option("help", "h", "Show this help and exit.").required(false).binding("help"));
  options.addOption(
      Poco::Util::Option("version", "", "Print the version and exit.").required(false).binding("version"));
  options.addOption(
      Poco::Util::Option("scope", "", "token add: the new token's scope, read or operate.")
          .required(false)
          .argument("read|operate", true)
          .binding("token.scope"));
  for (const OptionSpec& spec : optionSpecs()) {
    std::string help = spec.help;
    if (spec.defaultValue) help += std::string(" Default: ") + spec.defaultValue + ".";
    help += " Env: " + envNameFor(spec.name) + ".";
    Poco::Util::Option opt(spec.name, "", help);
    if (std::string_view(spec.name) == kPluginOptPrefix) {
      opt.required(false).repeatable(true).callback(
          Poco::Util::OptionCallback<CollectorApp>(this, &CollectorApp::handlePluginOpt));
    } else if (std::string_view(spec.name) == "select-label") {
      opt.required(false).repeatable(true).callback(
          Poco::Util::OptionCallback<CollectorApp>(this, &CollectorApp::handleSelectLabel));
    } else {
      opt.required(false).repeatable(false).binding(spec.name);
    }
    if (spec.argName) opt.argument(spec.argName, true);
    options.addOption(opt);
  }
}

void CollectorApp::handlePluginOpt(const std::string&, const std::string& value) {
  auto parsed = parsePluginOpt(value);
  if (!parsed.isOk()) throw Poco::Exception(parsed.status().message());
  config().setString(parsed->first, parsed->second);
}

void CollectorApp::handleSelectLabel(const std::string&, const std::string& value) {
  // Repeated flags become one comma list, the form the environment and a file use.
  std::string list = config().getString("select-label", "");
  config().setString("select-label", list.empty() ? value : list + "," + value);
}

void CollectorApp::printHelp() {
  Poco::Util::HelpFormatter help(options());
  help.setCommand("zynd-collector");
  help.setUsage("[plugins | check-config | token ...] [OPTIONS]");
  help.setHeader(
      "Per-host agent: follows the logs, health and resource use of zynd-<id> deployments and "
      "serves them over REST, SSE and Prometheus. Flags win over ZC_* environment variables, "
      "which win over the --config file.");
  help.setFooter(
      "Commands: 'plugins' lists the plugins found and the refused ones, then exits. "
      "'check-config [--config FILE] [OPTIONS]' checks the options and the plugin options as a "
      "start would, then exits 0, or 78 with the one-line reason. "
      "'token add NAME --scope read|operate' creates a token and prints it once (only its SHA-256 "
      "is stored); 'token list' shows names and scopes; 'token revoke NAME' removes one. The "
      "token commands edit --tokens-file, by default the file 'tokens' in --data-dir. SIGHUP "
      "re-reads the tokens file and the TLS certificate and key.");
  help.setWidth(100);
  help.format(std::cout);
}

int CollectorApp::runMain(int argc, char** argv) {
  // SIGINT, SIGQUIT and SIGTERM are taken by sigwait() in waitForTerminationRequest(). Blocked
  // here, before any subsystem starts a thread (threads inherit the mask), a stop requested while
  // the daemon starts waits until it is ready to stop in order, instead of killing it mid-start.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  sigaddset(&stopSignals, SIGINT);
  sigaddset(&stopSignals, SIGQUIT);
  sigaddset(&stopSignals, SIGTERM);
  sigaddset(&stopSignals, SIGHUP);  // re-reads the tokens file and TLS files (waitForStop())
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  try {
    init(argc, argv);
  } catch (const Poco::Util::OptionException& e) {
    std::fprintf(stderr, "zynd-collector: %s (see --help)\n", e.displayText().c_str());
    return EXIT_CONFIG;
  } catch (const Poco::Exception& e) {
    std::fprintf(stderr, "zynd-collector: %s\n", e.message().empty() ? e.displayText().c_str() : e.message().c_str());
    return EXIT_CONFIG;
  }
  return run();
}

void CollectorApp::initialize(Poco::Util::Application& self) {
  const auto& cfg = config();
  if (cfg.has("help")) command_ = Command::kHelp;
  else if (cfg.has("version")) command_ = Command::kVersion;
  else {
    for (int i = 1; i < static_cast<int>(argv().size()); ++i) {
      if (argv()[i] == "plugins") command_ = Command::kPlugins;
      if (argv()[i] == "token") command_ = Command::kToken;
      if (argv()[i] == "check-config") command_ = Command::kCheckConfig;
      if (command_ != Command::kServe) break;
    }
  }
  if (command_ == Command::kHelp || command_ == Command::kVersion) return;
  addSubsystem(new ConfigSubsystem(services_));
  if (command_ != Command::kToken) {
    // check-config creates and configures the selected plugins as a start would (their own
    // checks of their options), without opening or connecting anything. 'plugins' lists every
    // library found, so it opens them all.
    addSubsystem(new PluginSubsystem(services_, command_ == Command::kPlugins
                                                    ? PluginSubsystem::Use::kList
                                                    : PluginSubsystem::Use::kCreate));
  }
  if (command_ == Command::kServe) {
    addSubsystem(new ListenSubsystem(services_));
    addSubsystem(new StorageSubsystem(services_));
    addSubsystem(new PipelineSubsystem(services_));
    addSubsystem(new HttpSubsystem(services_));
  }
  try {
    ServerApplication::initialize(self);
  } catch (const Poco::Exception& e) {
    startupError_ = e.message().empty() ? e.displayText() : e.message();
  } catch (const std::exception& e) {
    startupError_ = e.what();
  }
}

void CollectorApp::uninitialize() {
  // Subsystems are uninitialised in reverse order of initialisation; each tolerates a partial
  // start.
  ServerApplication::uninitialize();
}

int CollectorApp::listPlugins() {
  std::printf("%-8s %-10s %-8s %s\n", "KIND", "NAME", "VERSION", "PATH");
  for (const auto& p : services_.plugins.plugins()) {
    const std::string kind(host::kindName(p.kind()));
    std::printf("%-8s %-10s %-8s %s\n", kind.c_str(), std::string(p.name()).c_str(),
                std::string(p.version()).c_str(), p.path.c_str());
    auto specs = services_.plugins.optionSpecs(p);
    if (!specs.isOk()) {
      std::printf("  (options unknown: %s)\n", specs.status().message().c_str());
      continue;
    }
    // One line per key, as the operator writes it: --plugin-opt KIND.NAME.KEY=VALUE.
    for (const auto& o : *specs) {
      std::string def = o.required ? "required" : o.defaultValue.empty() ? "no default"
                                                : o.secret ? "default set" : "default " + o.defaultValue;
      if (o.type == plugin::OptionType::kInt) {
        def += ", " + std::to_string(o.minValue) + ".." + std::to_string(o.maxValue);
      }
      std::printf("  %s.%s.%s (%s; %s): %s\n", kind.c_str(), std::string(p.name()).c_str(),
                  o.key.c_str(), std::string(plugin::optionTypeName(o.type)).c_str(), def.c_str(),
                  o.help.c_str());
    }
  }
  for (const auto& r : services_.plugins.refused()) {
    std::printf("refused  %s: %s\n", r.path.c_str(), r.reason.c_str());
  }
  return EXIT_OK;
}

int CollectorApp::checkConfig(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "zynd-collector: check-config takes no argument but --config FILE and "
                         "options (see --help)\n");
    return EXIT_CONFIG;
  }
  // What the listen subsystem refuses before binding: an exposed port without tokens, a bad
  // tokens file.
  Status st = checkListenExposure(services_.config);
  if (st.isOk()) {
    if (std::string tokens = tokensFileInUse(services_.config); !tokens.empty()) {
      auto read = exporters::readTokensFile(tokens);
      if (!read.isOk()) st = Status::invalidArgument("--tokens-file: " + read.status().message());
    }
  }
  if (!st.isOk()) {
    std::fprintf(stderr, "zynd-collector: %s\n", st.message().c_str());
    return EXIT_CONFIG;
  }
  const std::string file = config().getString("config", "");
  std::printf("zynd-collector: configuration OK%s\n",
              file.empty() ? " (no --config file)" : (" (" + file + ")").c_str());
  return EXIT_OK;
}

std::string CollectorApp::readyStatus() const {
  const CollectorConfig& c = services_.config;
  return "serving on " + c.listenHost + ":" +
         std::to_string(services_.http ? services_.http->port() : c.listenPort) + ", data in " +
         c.dataDir;
}

void CollectorApp::waitForStop() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGQUIT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig != SIGHUP) return;
    notifyReloading();
    if (services_.access && services_.access->tokensEnabled()) {
      (void)services_.access->reloadTokens();  // logs the outcome
    } else {
      spdlog::info("SIGHUP: no tokens file in use, nothing to re-read");
    }
    if (services_.http && services_.http->tlsEnabled()) {
      if (Status st = services_.http->reloadTls(); st.isOk()) {
        spdlog::info("SIGHUP: TLS certificate and key re-read");
      } else {
        spdlog::error("SIGHUP: TLS not reloaded, the previous certificate stays: {}",
                      st.message());
      }
    }
    notifyReady(readyStatus());
  }
}

int CollectorApp::main(const std::vector<std::string>& args) {
  if (command_ == Command::kHelp) {
    printHelp();
    return EXIT_OK;
  }
  if (command_ == Command::kVersion) {
    std::printf("zynd-collector %s\n", ZC_VERSION);
    return EXIT_OK;
  }
  if (!startupError_.empty()) {
    std::fprintf(stderr, "zynd-collector: %s\n", startupError_.c_str());
    return EXIT_CONFIG;
  }
  if (command_ == Command::kToken) {
    if (args.empty() || args[0] != "token") {
      std::fprintf(stderr, "zynd-collector: unknown command '%s' (see --help)\n",
                   args.empty() ? "" : args[0].c_str());
      return EXIT_CONFIG;
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    return runTokenCommand(rest, config().getString("token.scope", ""),
                           tokensFileForCommand(services_.config), std::cout, std::cerr);
  }
  if (command_ == Command::kCheckConfig) return checkConfig(args);
  for (const std::string& a : args) {
    if (a != "plugins") {
      std::fprintf(stderr, "zynd-collector: unknown command '%s' (see --help)\n", a.c_str());
      return EXIT_USAGE;
    }
  }
  if (command_ == Command::kPlugins) return listPlugins();
  spdlog::info("zynd-collector {} running; SIGTERM or SIGINT stops it", ZC_VERSION);
  notifyReady(readyStatus());
  waitForStop();
  notifyStopping();
  spdlog::info("stopping");
  return EXIT_OK;
}

}  // namespace zc::collector
