// The plugin ABI: the one C entry point every plugin shared library exports.
//
// A plugin `.so` exports exactly one symbol, `zc_plugin_entry_v2` (the ABI version is part of the
// name, so a plugin built for another major ABI has no matching symbol at all). It returns a
// pointer to a constant descriptor that lives as long as the library is loaded. The host refuses
// the library, with a one-line reason, unless every check below passes:
//   - abiVersion  == ZC_PLUGIN_ABI_VERSION
//   - structSize  == sizeof(ZcPluginDescriptor)
//   - headersHash == the hash of core/include/zc (computed at build time, see zc/abi_hash.h)
//   - toolchain   == ZC_TOOLCHAIN_ID of the host (compiler, version, C++ library ABI)
//   - kind is a known ZcPluginKind and the one the host asked for
//   - name is a valid plugin name, version non-empty, create and destroy non-null
// Only after all checks does the host call create(). See docs/plugin-abi.md.
#pragma once

#include <cstdint>

#include "zc/abi_hash.h"  // generated: ZC_PLUGIN_HEADERS_HASH

#define ZC_PLUGIN_ABI_VERSION 2u
#define ZC_PLUGIN_ENTRY_SYMBOL "zc_plugin_entry_v2"

#define ZC_STRINGIFY_INNER_(x) #x
#define ZC_STRINGIFY_(x) ZC_STRINGIFY_INNER_(x)
// Identifies the compiler and C++ library ABI; both sides must agree because C++ types
// (std::string, std::vector, virtual interfaces) cross the boundary.
#define ZC_TOOLCHAIN_ID \
  "gcc " __VERSION__ " cxx" ZC_STRINGIFY_(__cplusplus) " glibcxx-abi" ZC_STRINGIFY_(_GLIBCXX_USE_CXX11_ABI)

namespace zc::plugin {
class Plugin;
}  // namespace zc::plugin

extern "C" {

enum ZcPluginKind : uint32_t {
  ZC_PLUGIN_KIND_RUNTIME = 1,  // creates a zc::plugin::Runtime
  ZC_PLUGIN_KIND_STORAGE = 2,  // creates a zc::plugin::Storage
  ZC_PLUGIN_KIND_ROUTER = 3,   // creates a zc::plugin::Router
  ZC_PLUGIN_KIND_SINK = 4,     // creates a zc::plugin::Sink
};

struct ZcPluginDescriptor {
  uint32_t abiVersion;
  uint32_t structSize;
  const char* headersHash;
  const char* toolchain;
  uint32_t kind;        // a ZcPluginKind
  const char* name;     // [a-z0-9_]{1,32}, unique per kind, e.g. "rocksdb"
  const char* version;  // the plugin's own version, e.g. "0.1.0"
  // Builds the plugin object, unconfigured (options come later, through Plugin::configure()).
  // Never throws; returns null on failure and may then set *error to a one-line reason (the host
  // owns the string it passed in). OWNERSHIP: the returned object belongs to the host until it
  // passes it back to destroy(). The object's dynamic type is the interface for `kind` (Runtime,
  // Storage, Router or Sink); the host static_casts accordingly.
  zc::plugin::Plugin* (*create)(std::string* error);
  // Destroys an object made by create(). Never throws.
  void (*destroy)(zc::plugin::Plugin* plugin);
};

typedef const ZcPluginDescriptor* (*ZcPluginEntryFn)();

}  // extern "C"
