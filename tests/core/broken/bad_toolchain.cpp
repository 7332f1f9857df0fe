// Refused by the loader: toolchain is not the host's ZC_TOOLCHAIN_ID (another compiler or C++ ABI).
#include "tiny_router.h"

namespace {
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    "gcc 4.8.5 cxx201103L glibcxx-abi0",
    ZC_PLUGIN_KIND_ROUTER,
    "bad_toolchain",
    "0.1.0",
    &createTinyRouter,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
