#include "zc/host/plugin_loader.h"

#include <dirent.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstring>

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

Status PluginRegistry::addLibrary(const std::string& path) {
  if (frozen_) return Status::failedPrecondition("plugin registry is frozen");
  auto lib = loadPluginLibrary(path);
  if (!lib.isOk()) {
    refused_.push_back({path, lib.status().message()});
    return lib.status();
  }
  if (const PluginLibrary* dup = find(lib->kind(), lib->name())) {
    Status s = Status::alreadyExists("duplicate " + std::string(kindName(lib->kind())) +
                                     " plugin '" + std::string(lib->name()) + "', already from " +
                                     dup->path);
    refused_.push_back({path, s.message()});
    return s;
  }
  plugins_.push_back(std::move(lib).value());
  return Status::ok();
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
    (void)addLibrary(dir + (dir.back() == '/' ? "" : "/") + name);  // refusals are recorded
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
  std::string known;
  for (const auto& p : plugins_) {
    if (p.kind() != kind) continue;
    known += known.empty() ? "" : ", ";
    known += p.name();
  }
  return Status::notFound("no " + std::string(kindName(kind)) + " plugin named '" +
                          std::string(name) + "' (found: " + (known.empty() ? "none" : known) +
                          ")");
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
