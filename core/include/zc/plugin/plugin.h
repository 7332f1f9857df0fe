// What the host gives a plugin, and the base every plugin object derives from.
//
// A plugin never reads the process environment or global configuration itself: everything it
// may configure arrives as string options in PluginContext, checked against the keys it declares
// (optionSpecs(), documented in the plugin's README); it logs through PluginContext::logger, and
// it asks PluginContext::clock for the time.
//
// The life of every plugin object, whatever its kind:
//   create()     the descriptor's create(): a default-constructed object, no options, no I/O
//   optionSpecs() may be called at any time (the host lists it in `zynd-collector plugins`)
//   configure()  once, before any other method: options, logger, clock; a Status, never a throw
//   ...          the kind's own methods (Storage::open(), Runtime::connect(), ...)
//   destroy()
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "zc/clock.h"
#include "zc/plugin/options.h"
#include "zc/status.h"

namespace zc::plugin {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// The host's log. Thread-safe; never throws.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;
};

// Everything configure() may look at. OWNERSHIP: the host owns every pointer here and keeps each
// alive until after the plugin object is destroyed. The context itself may be a temporary: copy
// what you need in configure().
struct PluginContext {
  // Options for this plugin, keys without any prefix (e.g. "data_dir", "socket"): what the
  // operator gave with --plugin-opt KIND.NAME.KEY=VALUE (or a short form such as
  // --docker-socket), plus the host's standard keys (storage: data_dir; runtime:
  // max_line_bytes) when the plugin declares them.
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

  // The keys this plugin takes, with type, default and help. The same for every object of the
  // plugin; callable before configure(). Thread-safe. Default: none.
  virtual std::vector<OptionSpec> optionSpecs() const noexcept { return {}; }

  // Called once by the host, after create() and before every other method. Checks the options
  // (OptionValues::parse(optionSpecs(), context.options) and whatever only the plugin can
  // check) and keeps what it needs. InvalidArgument whose message starts with the offending key
  // for an unknown key or a bad value: the host then refuses to start. Must not start threads or
  // reach outside the process (that is for open()/connect()). Default: refuses every key
  // optionSpecs() does not declare and keeps nothing (for plugins and test doubles that take no
  // options and need neither logger nor clock).
  virtual Status configure(const PluginContext& context) noexcept {
    try {
      return OptionValues::parse(optionSpecs(), context.options).status();
    } catch (...) {
      return Status::internal("configure: out of memory");
    }
  }
};

}  // namespace zc::plugin
