#include "zc/host/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>

namespace zc::host {
namespace {

bool isValidPluginName(const char* name) {
  if (name == nullptr) return false;
  size_t n = std::strlen(name);
  if (n == 0 || n > 32) return false;
  return std::all_of(name, name + n, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string describe(ZcPluginKind kind, std::string_view name) {
  return std::string(kindName(kind)) + " plugin '" + std::string(name) + "'";
}

// The plugin a file named zc_<kind>_<name>.so says it holds; nullopt for any other name. Kind
// names hold no '_', so the first '_' after "zc_" ends the kind.
std::optional<DeferredLibrary> identityOf(const std::string& dir, std::string_view file) {
  constexpr std::string_view kPrefix = "zc_", kSuffix = ".so";
  if (file.rfind(kPrefix, 0) != 0 || !endsWith(file, kSuffix)) return std::nullopt;
  const std::string_view stem =
      file.substr(kPrefix.size(), file.size() - kPrefix.size() - kSuffix.size());
  for (ZcPluginKind kind : {ZC_PLUGIN_KIND_RUNTIME, ZC_PLUGIN_KIND_STORAGE, ZC_PLUGIN_KIND_ROUTER,
                            ZC_PLUGIN_KIND_SINK}) {
    const std::string head = std::string(kindName(kind)) + "_";
    if (stem.rfind(head, 0) != 0) continue;
    const std::string name(stem.substr(head.size()));
    if (!isValidPluginName(name.c_str())) return std::nullopt;
    return DeferredLibrary{dir + (dir.back() == '/' ? "" : "/") + std::string(file), kind, name};
  }
  return std::nullopt;
}

}  // namespace

std::string_view kindName(uint32_t kind) noexcept {
  switch (kind) {
    case ZC_PLUGIN_KIND_RUNTIME: return "runtime";
    case ZC_PLUGIN_KIND_STORAGE: return "storage";
    case ZC_PLUGIN_KIND_ROUTER: return "router";
    case ZC_PLUGIN_KIND_SINK: return "sink";
  }
  return "unknown";
}

Status checkDescriptor(const ZcPluginDescriptor* d) {
  if (d == nullptr) return Status::invalidArgument("entry point returned no descriptor");
  if (d->abiVersion != ZC_PLUGIN_ABI_VERSION) {
    return Status::invalidArgument("plugin ABI version " + std::to_string(d->abiVersion) +
                                   ", host expects " + std::to_string(ZC_PLUGIN_ABI_VERSION));
  }
  if (d->structSize != sizeof(ZcPluginDescriptor)) {
    return Status::invalidArgument("descriptor size " + std::to_string(d->structSize) +
                                   ", host expects " + std::to_string(sizeof(ZcPluginDescriptor)));
  }
  if (d->headersHash == nullptr || std::strcmp(d->headersHash, ZC_PLUGIN_HEADERS_HASH) != 0) {
    return Status::invalidArgument(
        std::string("plugin headers hash ") + (d->headersHash ? d->headersHash : "(null)") +
        " differs from the host's " ZC_PLUGIN_HEADERS_HASH " (built against other headers)");
  }
  if (d->toolchain == nullptr || std::strcmp(d->toolchain, ZC_TOOLCHAIN_ID) != 0) {
    return Status::invalidArgument(std::string("plugin toolchain '") +
                                   (d->toolchain ? d->toolchain : "(null)") +
                                   "' differs from the host's '" ZC_TOOLCHAIN_ID "'");
  }
  if (kindName(d->kind) == "unknown") {
    return Status::invalidArgument("unknown plugin kind " + std::to_string(d->kind));
  }
  if (!isValidPluginName(d->name)) {
    return Status::invalidArgument("plugin name is not [a-z0-9_]{1,32}");
  }
  if (d->version == nullptr || d->version[0] == '\0') {
    return Status::invalidArgument("plugin has no version");
  }
  if (d->create == nullptr || d->destroy == nullptr) {
    return Status::invalidArgument("plugin has no create or destroy function");
  }
  return Status::ok();
}

Result<PluginLibrary> loadPluginLibrary(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::invalidArgument("plugin path '" + path + "' is not absolute");
  }
  dlerror();
  // Never dlclose()d: see the header.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    return Status::invalidArgument(std::string("cannot load: ") + (err ? err : "dlopen failed"));
  }
  auto entry = reinterpret_cast<ZcPluginEntryFn>(dlsym(handle, ZC_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    return Status::invalidArgument("no entry point " ZC_PLUGIN_ENTRY_SYMBOL
                                   " (not a zynd-collector plugin of ABI v2)");
  }
  const ZcPluginDescriptor* d = entry();
  ZC_RETURN_IF_ERROR(checkDescriptor(d));
  return PluginLibrary{path, d};
}

Status PluginRegistry::refuse(const std::string& path, Status why) {
  refused_.push_back({path, why.message()});
  return why;
}

Status PluginRegistry::accept(PluginLibrary lib) {
  if (const PluginLibrary* dup = find(lib.kind(), lib.name())) {
    return refuse(lib.path, Status::alreadyExists("duplicate " + describe(lib.kind(), lib.name()) +
                                                  ", already from " + dup->path));
  }
  plugins_.push_back(std::move(lib));
  return Status::ok();
}

Status PluginRegistry::addLibrary(const std::string& path) {
  if (frozen_) return Status::failedPrecondition("plugin registry is frozen");
  auto lib = loadPluginLibrary(path);
  if (!lib.isOk()) return refuse(path, lib.status());
  return accept(std::move(lib).value());
}

Status PluginRegistry::openDeferred(const DeferredLibrary& d) {
  auto lib = loadPluginLibrary(d.path);
  if (!lib.isOk()) return refuse(d.path, lib.status());
  // The file name decided that this library was opened (or not): a library that is some other
  // plugin would be used, or stand in for one, under a name it does not have.
  if (lib->kind() != d.kind || lib->name() != d.name) {
    return refuse(d.path, Status::invalidArgument("the file name says " + describe(d.kind, d.name) +
                                                  ", the library is " +
                                                  describe(lib->kind(), lib->name())));
  }
  return accept(std::move(lib).value());
}

Status PluginRegistry::scanDirectory(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') {
    return Status::invalidArgument("plugin directory '" + dir + "' is not absolute");
  }
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Status::notFound("plugin directory '" + dir + "' cannot be read");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string_view name = e->d_name;
    if (name.rfind("zc_", 0) == 0 && endsWith(name, ".so")) names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());  // deterministic order, deterministic duplicates
  for (const auto& name : names) {
    if (auto identity = identityOf(dir, name)) {
      // Opening costs the library and everything it links (libpq pulls in TLS, Kerberos, LDAP):
      // only the plugins in use are worth it.
      deferred_.push_back(std::move(*identity));
    } else {
      (void)addLibrary(dir + (dir.back() == '/' ? "" : "/") + name);  // refusals are recorded
    }
  }
  return Status::ok();
}

Status PluginRegistry::open(ZcPluginKind kind, std::string_view name) {
  if (frozen_) return Status::failedPrecondition("plugin registry is frozen");
  std::vector<DeferredLibrary> claims;
  auto claimsIt = [&](const DeferredLibrary& d) { return d.kind == kind && d.name == name; };
  std::copy_if(deferred_.begin(), deferred_.end(), std::back_inserter(claims), claimsIt);
  deferred_.erase(std::remove_if(deferred_.begin(), deferred_.end(), claimsIt), deferred_.end());
  Status firstRefusal;
  for (const DeferredLibrary& d : claims) {
    if (const PluginLibrary* dup = find(kind, name)) {
      // By its file name the same plugin: refused as addLibrary() would, without opening it.
      (void)refuse(d.path, Status::alreadyExists("duplicate " + describe(kind, name) +
                                                 ", already from " + dup->path));
      continue;
    }
    Status opened = openDeferred(d);  // refusals are recorded
    if (!opened.isOk() && firstRefusal.isOk()) firstRefusal = opened;
  }
  if (find(kind, name) == nullptr && !firstRefusal.isOk()) return firstRefusal;
  return lookup(kind, name).status();
}

Status PluginRegistry::openAll() {
  if (frozen_) return Status::failedPrecondition("plugin registry is frozen");
  while (!deferred_.empty()) {
    const DeferredLibrary first = deferred_.front();
    (void)open(first.kind, first.name);  // takes `first` and its duplicates off deferred_
  }
  return Status::ok();
}

const PluginLibrary* PluginRegistry::find(ZcPluginKind kind, std::string_view name) const noexcept {
  for (const auto& p : plugins_) {
    if (p.kind() == kind && p.name() == name) return &p;
  }
  return nullptr;
}

Result<const PluginLibrary*> PluginRegistry::lookup(ZcPluginKind kind,
                                                    std::string_view name) const {
  if (const PluginLibrary* lib = find(kind, name)) return lib;
  std::vector<std::string_view> known;
  for (const auto& p : plugins_) {
    if (p.kind() == kind) known.push_back(p.name());
  }
  for (const auto& d : deferred_) {
    if (d.kind != kind) continue;
    if (d.name == name) {
      return Status::failedPrecondition(describe(kind, name) + " in " + d.path +
                                        " was never opened (open() it before use)");
    }
    if (std::find(known.begin(), known.end(), d.name) == known.end()) known.push_back(d.name);
  }
  std::string list;
  for (std::string_view n : known) {
    list += list.empty() ? "" : ", ";
    list += n;
  }
  return Status::notFound("no " + std::string(kindName(kind)) + " plugin named '" +
                          std::string(name) + "' (found: " + (list.empty() ? "none" : list) + ")");
}

Result<std::pair<plugin::Plugin*, void (*)(plugin::Plugin*)>> PluginRegistry::createRaw(
    ZcPluginKind kind, std::string_view name, const plugin::PluginContext& ctx) const {
  ZC_ASSIGN_OR_RETURN(const PluginLibrary* lib, lookup(kind, name));
  std::string error;
  plugin::Plugin* obj = lib->descriptor->create(&error);
  if (obj == nullptr) {
    return Status::internal(std::string(kindName(kind)) + " plugin '" + std::string(name) +
                            "' failed to start: " + (error.empty() ? "create() returned null" : error));
  }
  Status configured = obj->configure(ctx);
  if (!configured.isOk()) {
    lib->descriptor->destroy(obj);
    // "storage.rocksdb.block_cache_mb: ..." names the option the operator writes.
    std::string prefix = std::string(kindName(kind)) + "." + std::string(name);
    if (configured.code() == Status::Code::kInvalidArgument) {
      return Status::invalidArgument(prefix + "." + configured.message());
    }
    return configured.withContext(prefix);
  }
  return std::make_pair(obj, lib->descriptor->destroy);
}

Result<std::vector<plugin::OptionSpec>> PluginRegistry::optionSpecs(
    const PluginLibrary& lib) const {
  std::string error;
  plugin::Plugin* obj = lib.descriptor->create(&error);
  if (obj == nullptr) {
    return Status::internal(std::string(kindName(lib.kind())) + " plugin '" +
                            std::string(lib.name()) + "' failed to start: " +
                            (error.empty() ? "create() returned null" : error));
  }
  std::vector<plugin::OptionSpec> specs = obj->optionSpecs();
  lib.descriptor->destroy(obj);
  return specs;
}

}  // namespace zc::host
