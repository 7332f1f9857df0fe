// The host side of the plugin ABI: finding, checking and instantiating plugin libraries.
//
// Libraries are opened with RTLD_NOW | RTLD_LOCAL from absolute paths only and are never closed
// while the process runs (an object or thread of a plugin may outlive any bookkeeping here).
// Every check of zc/plugin/abi.h is applied before any plugin code other than the entry point
// runs; a refused library gets a one-line reason and does not stop the others from loading.
// Host-only: plugins never include this header (it is not part of the ABI hash).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"
#include "zc/status.h"

namespace zc::host {

// "runtime", "storage", "router", "sink", or "unknown".
std::string_view kindName(uint32_t kind) noexcept;

// A checked plugin library. The descriptor stays valid for the life of the process.
struct PluginLibrary {
  std::string path;
  const ZcPluginDescriptor* descriptor = nullptr;

  ZcPluginKind kind() const noexcept { return static_cast<ZcPluginKind>(descriptor->kind); }
  std::string_view name() const noexcept { return descriptor->name; }
  std::string_view version() const noexcept { return descriptor->version; }
};

// Owns one object made by a plugin's create() and hands it back to destroy().
template <typename T>
struct PluginObjectDeleter {
  void (*destroy)(plugin::Plugin*) = nullptr;
  void operator()(T* p) const noexcept {
    if (p && destroy) destroy(p);
  }
};
template <typename T>
using PluginPtr = std::unique_ptr<T, PluginObjectDeleter<T>>;

// Opens `path` and checks its descriptor. `path` must be absolute. Thread-safe.
Result<PluginLibrary> loadPluginLibrary(const std::string& path);

// Checks a descriptor against this host (exposed for tests). OK or the one-line reason.
Status checkDescriptor(const ZcPluginDescriptor* d);

// The set of plugins this process may use. Filled at start-up, then frozen: after freeze(),
// only const methods and create() may be called, from any thread.
class PluginRegistry {
 public:
  struct Refusal {
    std::string path;
    std::string reason;
  };

  // Loads every file named zc_*.so in `dir` (absolute). Missing dir: NotFound. Refused libraries
  // are recorded in refused(), never fatal. A second plugin with the same kind and name is
  // refused ("duplicate").
  Status scanDirectory(const std::string& dir);
  // Loads one library (absolute path). Refusal: recorded and returned.
  Status addLibrary(const std::string& path);
  void freeze() noexcept { frozen_ = true; }

  const std::vector<PluginLibrary>& plugins() const noexcept { return plugins_; }
  const std::vector<Refusal>& refused() const noexcept { return refused_; }
  const PluginLibrary* find(ZcPluginKind kind, std::string_view name) const noexcept;
  // find(), or NotFound "no <kind> plugin named '<n>' (found: a, b)" (or "found: none").
  Result<const PluginLibrary*> lookup(ZcPluginKind kind, std::string_view name) const;
  // The options `lib` declares (from a short-lived, unconfigured object).
  Result<std::vector<plugin::OptionSpec>> optionSpecs(const PluginLibrary& lib) const;

  // Instantiates plugin `name` of the kind of T (plugin::Storage, plugin::Runtime,
  // plugin::Router) and configures it with `ctx`. NotFound when no such plugin was loaded;
  // InvalidArgument "<kind>.<name>.<key>: <why>" when configure() refused an option.
  template <typename T>
  Result<PluginPtr<T>> create(std::string_view name, const plugin::PluginContext& ctx) const {
    auto raw = createRaw(T::kKind, name, ctx);
    if (!raw.isOk()) return raw.status();
    return PluginPtr<T>(static_cast<T*>(raw->first), PluginObjectDeleter<T>{raw->second});
  }

 private:
  Result<std::pair<plugin::Plugin*, void (*)(plugin::Plugin*)>> createRaw(
      ZcPluginKind kind, std::string_view name, const plugin::PluginContext& ctx) const;

  std::vector<PluginLibrary> plugins_;
  std::vector<Refusal> refused_;
  bool frozen_ = false;
};

}  // namespace zc::host
