// Refused by the loader: no zc_plugin_entry_v2 symbol. It exports the entry point of a later
// major ABI instead, as a plugin built for ABI v3 would.
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    3u,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "no_entry",
    "0.1.0",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

extern "C" __attribute__((visibility("default"))) const ZcPluginDescriptor* zc_plugin_entry_v3() {
  return &kDescriptor;
}
