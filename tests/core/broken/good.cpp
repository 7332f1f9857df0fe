// A correct router plugin named "tiny", defined the way real plugins are (ZC_DEFINE_PLUGIN).
// Built twice (zc_good.so and zc_twin.so) to test duplicate refusal.
#include "tiny_router.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_ROUTER, "tiny", "1.2.3", TinyRouter)
