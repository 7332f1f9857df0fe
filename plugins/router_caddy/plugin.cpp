// The only exported symbol of zc_router_caddy.so: the entry point for zc::router::CaddyRouter.
#include "caddy_router.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_ROUTER, "caddy", "0.1.0", zc::router::CaddyRouter)
