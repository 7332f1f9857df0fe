// The only exported symbol of zc_sink_postgres.so.
#include "postgres_sink.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_SINK, "postgres", "0.1.0", zc::pgsink::PostgresSink)
