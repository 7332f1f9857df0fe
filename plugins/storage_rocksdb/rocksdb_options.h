// The RocksDB plugin's options: the keys it declares (README.md "Options"), their parsed form,
// and what they become for rocksdb::DB::Open.
//
// parseRocksDbOptions() is what configure() runs: it only checks and converts, touching nothing
// on disk. openOptionsFor() turns checked options into RocksDB's DB and column-family options
// (memory budget, block cache, compression with a fallback to what this librocksdb supports).
//
// Thread-safety: pure functions.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "zc/plugin/options.h"
#include "zc/plugin/plugin.h"
#include "zc/status.h"

namespace zc::storage {

struct RocksDbOptions {
  std::string dataDir;
  bool syncWrites = false;
  uint64_t blockCacheBytes = 8 * 1024 * 1024;
  uint64_t writeBufferBytes = 4 * 1024 * 1024;
  std::string compression = "lz4";  // lz4, zstd, snappy or none
  int maxOpenFiles = 512;           // table files RocksDB keeps open at once
};

// data_dir, sync_writes, block_cache_mb, write_buffer_mb, compression, max_open_files.
std::vector<plugin::OptionSpec> rocksDbOptionSpecs();

// The options of `given` (keys without prefix), or InvalidArgument "<key>: <why>".
Result<RocksDbOptions> parseRocksDbOptions(const std::map<std::string, std::string>& given);

// What rocksdb::DB::Open and every write are given for one set of options.
struct OpenOptions {
  rocksdb::DBOptions db;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;  // one per Cf, in Cf order
  rocksdb::WriteOptions write;
  std::string summary;  // for the log: "compression lz4, sync_writes false"
};

// Falls back (with a warning to `logger`) to the best compression this librocksdb supports when
// the requested one is missing. RocksDB's info log goes to `logger` (see rocksdb_logger.h), which
// must outlive the DB.
OpenOptions openOptionsFor(const RocksDbOptions& opts, plugin::Logger* logger);

}  // namespace zc::storage
