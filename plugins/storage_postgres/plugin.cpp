// The only exported symbol of zc_storage_postgres.so.
#include "postgres_storage.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_STORAGE, "postgres", "0.1.0", zc::pgstorage::PostgresStorage)
