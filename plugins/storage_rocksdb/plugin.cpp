#include "rocksdb_storage.h"
#include "zc/plugin/export.h"

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_STORAGE, "rocksdb", "0.1.0", zc::storage::RocksDbStorage)
