// Loads, but create() returns null without saying why.
#include "tiny_router.h"

namespace {
zc::plugin::Plugin* createNothing(std::string*) {
  return nullptr;
}
const ZcPluginDescriptor kDescriptor = {
    ZC_PLUGIN_ABI_VERSION,
    sizeof(ZcPluginDescriptor),
    ZC_PLUGIN_HEADERS_HASH,
    ZC_TOOLCHAIN_ID,
    ZC_PLUGIN_KIND_ROUTER,
    "create_null",
    "0.1.0",
    &createNothing,
    &destroyTinyRouter,
};
}  // namespace

ZC_TEST_EXPORT_ENTRY(kDescriptor)
