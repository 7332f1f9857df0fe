// Refused by the loader: structSize is not sizeof(ZcPluginDescriptor) (built against a descriptor
// with another layout).
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor) - 8,
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "bad_struct_size",
    "0.1.0",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
