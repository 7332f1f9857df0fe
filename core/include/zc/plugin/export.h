// ZC_DEFINE_PLUGIN: the one place a plugin defines its entry point.
//
// Use it once, in the plugin's plugin.cpp:
//
//   ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_STORAGE, "rocksdb", "0.1.0", zc::storage::RocksDbStorage)
//
// `Class` must derive from the interface of `kind` and be default-constructible. Construction
// must be cheap and must not start threads or touch the outside world (options arrive later,
// through configure()); a constructor that throws anyway is reported as create() failure.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"

#define ZC_DEFINE_PLUGIN(kind_, name_, version_, Class)                                          \
  namespace {                                                                                    \
  zc::plugin::Plugin* zcPluginCreate(std::string* error) {                                        \
    try {                                                                                        \
      return new Class();                                                                        \
    } catch (const std::exception& e) {                                                         \
      if (error) *error = e.what();                                                              \
    } catch (...) {                                                                              \
      if (error) *error = "unknown exception in plugin constructor";                            \
    }                                                                                            \
    return nullptr;                                                                              \
  }                                                                                              \
  void zcPluginDestroy(zc::plugin::Plugin* plugin) { delete plugin; }                           \
  constexpr ZcPluginDescriptor kZcPluginDescriptor = {                                           \
      ZC_PLUGIN_ABI_VERSION, sizeof(ZcPluginDescriptor), ZC_PLUGIN_HEADERS_HASH, ZC_TOOLCHAIN_ID,  \
      (kind_),               (name_),                    (version_),             &zcPluginCreate, \
      &zcPluginDestroy};                                                                         \
  }                                                                                              \
  extern "C" __attribute__((visibility("default"))) const ZcPluginDescriptor* zc_plugin_entry_v2() { \
    return &kZcPluginDescriptor;                                                                 \
  }
