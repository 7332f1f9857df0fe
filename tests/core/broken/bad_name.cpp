// Refused by the loader: the name is not [a-z0-9_]{1,32}.
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "Tiny-Router",
    "0.1.0",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
