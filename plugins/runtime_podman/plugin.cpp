// The only exported symbol of zc_runtime_podman.so.
#include "podman_runtime.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_RUNTIME, "podman", "0.1.0", zc::podman::PodmanRuntime)
