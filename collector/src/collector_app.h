// CollectorApp: the zynd-collector daemon, a Poco ServerApplication assembled from subsystems.
//
//   zynd-collector [options]          run the collector until SIGTERM/SIGINT
//   zynd-collector plugins [options]  list the plugins found (kind, name, version, path) and
//                                     the refused ones with their reason
//   zynd-collector token add NAME --scope read|operate | token list | token revoke NAME
//                                     manage the tokens file (token_command.h)
//   zynd-collector check-config [--config FILE] [options]
//                                     check the configuration (options, plugin options, the
//                                     selected plugins' own checks) as a start would, without
//                                     binding, opening or connecting: prints one line and exits
//                                     0, or EXIT_CONFIG (78) with the reason
//   zynd-collector --help | --version
// Under systemd (Type=notify) it reports READY=1 once it serves (storage open, the port
// listening), RELOADING=1 around a SIGHUP, STOPPING=1 when it stops (service_notify.h).
// While serving, SIGHUP re-reads the tokens file and the TLS certificate and key; SIGTERM,
// SIGINT and SIGQUIT stop.
//
// A bad option or a failed start-up prints one line "zynd-collector: <reason>" and exits
// non-zero (EXIT_CONFIG = 78 for configuration, EXIT_SOFTWARE = 70 otherwise).
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <string>

#include "services.h"

namespace zc::collector {

class CollectorApp final : public Poco::Util::ServerApplication {
 public:
  CollectorApp();
  // Parses argv and runs; the process exit code.
  int runMain(int argc, char** argv);

 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void initialize(Poco::Util::Application& self) override;
  void uninitialize() override;
  int main(const std::vector<std::string>& args) override;

 private:
  void printHelp();
  int listPlugins();
  int checkConfig(const std::vector<std::string>& args);
  // The STATUS= line systemd shows once the daemon serves.
  std::string readyStatus() const;
  // Waits for SIGTERM/SIGINT/SIGQUIT; each SIGHUP meanwhile re-reads the tokens file and the
  // TLS files (a bad new TLS pair keeps the old one, one error line).
  void waitForStop();
  // --plugin-opt KIND.NAME.KEY=VALUE: stored as the configuration key plugin-opt.KIND.NAME.KEY.
  void handlePluginOpt(const std::string& name, const std::string& value);
  // --select-label KEY=VALUE (repeatable): appended to the comma list select-label.
  void handleSelectLabel(const std::string& name, const std::string& value);

  enum class Command { kServe, kPlugins, kToken, kCheckConfig, kHelp, kVersion };
  Command command_ = Command::kServe;
  Services services_;
  std::string startupError_;
};

}  // namespace zc::collector
