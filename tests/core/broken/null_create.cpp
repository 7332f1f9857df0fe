// Refused by the loader: create is null.
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "null_create",
    "0.1.0",
    nullptr,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
