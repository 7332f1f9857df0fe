// The host side of the plugin ABI: finding, checking and instantiating plugin libraries.
//
// Libraries are opened with RTLD_NOW | RTLD_LOCAL from absolute paths only and are never closed
// while the process runs (an object or thread of a plugin may outlive any bookkeeping here).
// Every check of zc/plugin/abi.h is applied before any plugin code other than the entry point
// runs; a refused library gets a one-line reason and does not stop the others from loading.
// A library whose file name says what it is (zc_<kind>_<name>.so) is opened only when that
// plugin is asked for, so the libraries of unused plugins are never mapped.
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

// A library found by scanDirectory() and not opened yet: its file name is zc_<kind>_<name>.so.
struct DeferredLibrary {
  std::string path;
  ZcPluginKind kind;
  std::string name;
};

// The set of plugins this process may use. Filled at start-up (scan, then open what is needed),
// then frozen: after freeze(), only const methods and create() may be called, from any thread,
// and nothing is opened any more. Not thread-safe before freeze().
class PluginRegistry {
 public:
  struct Refusal {
    std::string path;
    std::string reason;
  };

  // Finds every file named zc_*.so in `dir` (absolute), in file-name order. A file named
  // zc_<kind>_<name>.so (kind: runtime, storage, router or sink; name: [a-z0-9_]{1,32}) is
  // recorded in deferred() without being opened; any other zc_*.so is loaded at once as by
  // addLibrary(). Missing dir: NotFound. Refused libraries are recorded in refused(), never fatal.
  Status scanDirectory(const std::string& dir);
  // Loads one library (absolute path) at once. Refusal: recorded and returned. A second plugin
  // with the same kind and name is refused ("duplicate").
  Status addLibrary(const std::string& path);
  // Opens the deferred libraries that claim plugin (kind, name), in scan order: the first one
  // that loads is the plugin; the ones after it are refused as duplicates without being opened,
  // and so are all of them when a library already loaded is that plugin. A library whose
  // descriptor is not the kind and name its file name says is refused. Answers OK when the
  // plugin is loaded afterwards, else the first refusal of a library that claims it, else
  // lookup()'s NotFound; FailedPrecondition once frozen.
  Status open(ZcPluginKind kind, std::string_view name);
  // open() for every deferred library, in scan order (to list them all). FailedPrecondition once
  // frozen.
  Status openAll();
  void freeze() noexcept { frozen_ = true; }

  // The loaded plugins, in the order they were loaded.
  const std::vector<PluginLibrary>& plugins() const noexcept { return plugins_; }
  // The libraries found by a scan and never opened (they are not in plugins() or refused()).
  const std::vector<DeferredLibrary>& deferred() const noexcept { return deferred_; }
  const std::vector<Refusal>& refused() const noexcept { return refused_; }
  // A loaded plugin; never a deferred one.
  const PluginLibrary* find(ZcPluginKind kind, std::string_view name) const noexcept;
  // find(), or NotFound "no <kind> plugin named '<n>' (found: a, b)" (or "found: none"), where
  // the names are those loaded and those deferred; FailedPrecondition "... was never opened"
  // when (kind, name) is only deferred (nobody open()ed it before it was needed).
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

  // Records the refusal of `path` and returns `why`.
  Status refuse(const std::string& path, Status why);
  // Adds a checked library unless it duplicates a loaded plugin.
  Status accept(PluginLibrary lib);
  // Loads `d` as addLibrary() does and refuses it unless it is the plugin its file name says.
  Status openDeferred(const DeferredLibrary& d);

  std::vector<PluginLibrary> plugins_;
  std::vector<DeferredLibrary> deferred_;
  std::vector<Refusal> refused_;
  bool frozen_ = false;
};

}  // namespace zc::host
