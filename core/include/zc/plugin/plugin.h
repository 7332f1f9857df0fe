// What the host gives a plugin, and the base every plugin object derives from.
//
// A plugin never reads the process environment or global configuration itself: everything it
// may configure arrives as string options in PluginContext (documented in the plugin's README),
// it logs through PluginContext::logger, and it asks PluginContext::clock for the time.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "zc/clock.h"
#include "zc/status.h"

namespace zc::plugin {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// The host's log. Thread-safe; never throws.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;
};

// Everything create() may look at. OWNERSHIP: the host owns every pointer here and keeps each
// alive until after the plugin object is destroyed. The context itself may be a temporary: copy
// what you need in create().
struct PluginContext {
  // Options for this plugin, keys without any prefix (e.g. "data_dir", "docker_socket").
  std::map<std::string, std::string> options;
  Logger* logger = nullptr;  // never null
  Clock* clock = nullptr;    // never null

  // The option's value, or `fallback` when unset.
  std::string option(const std::string& key, std::string fallback = {}) const {
    auto it = options.find(key);
    return it == options.end() ? std::move(fallback) : it->second;
  }
};

// Base of every plugin object. Interfaces per kind derive from it (storage.h, runtime.h,
// router.h). Methods of derived interfaces are noexcept and report failure through Status.
class Plugin {
 public:
  virtual ~Plugin() = default;
};

}  // namespace zc::plugin
