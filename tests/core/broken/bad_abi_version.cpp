// Refused by the loader: abiVersion is not ZC_PLUGIN_ABI_VERSION (a plugin of a newer ABI that kept
// the entry symbol's name).
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION + 1,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "bad_abi_version",
    "0.1.0",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
