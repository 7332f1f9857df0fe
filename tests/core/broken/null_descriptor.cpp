// Refused by the loader: the entry point returns no descriptor.
#include "tiny_router.h"

extern "C" __attribute__((visibility("default"))) const ZcPluginDescriptor* zc_plugin_entry_v2() {
  return nullptr;
}
