// Refused by the loader: the version is empty.
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "no_version",
    "",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
