// The only exported symbol of zc_runtime_docker.so.
#include "docker_runtime.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_RUNTIME, "docker", "0.1.0", zc::docker::DockerRuntime)
