// Helpers for the router plugin tests: loading the real plugin through the registry, a logger
// that records, loopback ports and a plain HTTP GET.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/plugin.h"
#include "zc/plugin/router.h"

namespace zc::testing {

// Records every line; thread-safe.
class RecordingLogger final : public plugin::Logger {
 public:
  void log(plugin::LogLevel, std::string_view message) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.emplace_back(message);
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// The real plugins of ZC_PLUGIN_DIR and a context to create them with. Keep it alive as long as
// the objects it made (the logger and clock are theirs).
struct CaddyPluginFixture {
  host::PluginRegistry registry;
  RecordingLogger logger;
  ManualClock clock{1'700'000'000LL * kNanosPerSecond};

  // Scans ZC_PLUGIN_DIR (a failure is reported by the caller's ASSERT on the result).
  Status load() {
    ZC_RETURN_IF_ERROR(registry.scanDirectory(ZC_PLUGIN_DIR));
    return registry.openAll();
  }

  Result<host::PluginPtr<plugin::Router>> create(std::map<std::string, std::string> options) {
    plugin::PluginContext ctx;
    ctx.options = std::move(options);
    ctx.logger = &logger;
    ctx.clock = &clock;
    return registry.create<plugin::Router>("caddy", ctx);
  }
};

// A loopback TCP port that was free a moment ago (bound to port 0, read back, closed).
uint16_t freeLoopbackPort();

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
};
// GET http://127.0.0.1:<port><path>, Host "127.0.0.1:<port>", with an Origin header when
// `origin` is not empty, 2 s timeout. Never throws.
HttpAnswer httpGet(uint16_t port, const std::string& path, const std::string& origin = "");

}  // namespace zc::testing
