#include "rocksdb_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <memory>

#include "column_families.h"
#include "rocksdb_logger.h"

namespace zc::storage {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

const char* compressionName(rocksdb::CompressionType t) {
  switch (t) {
    case rocksdb::kLZ4Compression:
      return "lz4";
    case rocksdb::kZSTD:
      return "zstd";
    case rocksdb::kSnappyCompression:
      return "snappy";
    case rocksdb::kNoCompression:
      return "none";
    default:
      return "other";
  }
}

}  // namespace

std::vector<plugin::OptionSpec> rocksDbOptionSpecs() {
  using plugin::OptionType;
  return {
      {"data_dir", OptionType::kString, "", "database folder, created when missing", 0, 0, true},
      {"sync_writes", OptionType::kBool, "false",
       "fsync the WAL on every write (survives power loss, not only a process crash)"},
      {"block_cache_mb", OptionType::kInt, "8",
       "LRU block cache shared by every column family, MiB", 1, 1024},
      {"write_buffer_mb", OptionType::kInt, "2", "memtable size per column family, MiB", 1, 256},
      {"compression", OptionType::kString, "lz4", "lz4, zstd, snappy or none"},
      {"max_open_files", OptionType::kInt, "512",
       "table files kept open at once (the rest are opened on demand)", 16, 1'000'000},
  };
}

Result<RocksDbOptions> parseRocksDbOptions(const std::map<std::string, std::string>& given) {
  ZC_ASSIGN_OR_RETURN(plugin::OptionValues v,
                      plugin::OptionValues::parse(rocksDbOptionSpecs(), given));
  const std::string& compression = v.string("compression");
  if (compression != "lz4" && compression != "zstd" && compression != "snappy" &&
      compression != "none") {
    return Status::invalidArgument("compression: '" + compression +
                                   "' is not lz4, zstd, snappy or none");
  }
  RocksDbOptions opts;
  opts.dataDir = v.string("data_dir");
  opts.syncWrites = v.boolean("sync_writes");
  opts.blockCacheBytes = static_cast<uint64_t>(v.integer("block_cache_mb")) * kMiB;
  opts.writeBufferBytes = static_cast<uint64_t>(v.integer("write_buffer_mb")) * kMiB;
  opts.compression = compression;
  opts.maxOpenFiles = static_cast<int>(v.integer("max_open_files"));
  return opts;
}

OpenOptions openOptionsFor(const RocksDbOptions& opts, plugin::Logger* logger) {
  // Compression: the requested one when this librocksdb has it, else the best available.
  auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return t == rocksdb::kNoCompression ||
           std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  rocksdb::CompressionType wanted = rocksdb::kLZ4Compression;
  if (opts.compression == "zstd") wanted = rocksdb::kZSTD;
  if (opts.compression == "snappy") wanted = rocksdb::kSnappyCompression;
  if (opts.compression == "none") wanted = rocksdb::kNoCompression;
  rocksdb::CompressionType compression = wanted;
  if (!has(wanted)) {
    compression = rocksdb::kNoCompression;
    for (auto t : {rocksdb::kLZ4Compression, rocksdb::kZSTD, rocksdb::kSnappyCompression}) {
      if (has(t)) {
        compression = t;
        break;
      }
    }
    logger->log(plugin::LogLevel::kWarn,
                std::string("rocksdb storage: compression ") + compressionName(wanted) +
                    " is not supported by this librocksdb; using " + compressionName(compression));
  }
  // Cold data (the last level) gets the denser ZSTD when compression is on at all.
  rocksdb::CompressionType bottommost =
      compression != rocksdb::kNoCompression && has(rocksdb::kZSTD) ? rocksdb::kZSTD : compression;

  OpenOptions out;
  rocksdb::DBOptions& dbo = out.db;
  dbo.create_if_missing = true;
  dbo.create_missing_column_families = true;
  dbo.info_log = std::make_shared<ForwardingLogger>(logger);
  dbo.max_background_jobs = 2;
  // RocksDB's default keeps every table file open: the count would grow with the data and take
  // the descriptors the streams and follows need.
  dbo.max_open_files = opts.maxOpenFiles;
  // Memory budget: all memtables together, and the WAL (the meta CF is tiny and written by every
  // batch: without a WAL cap it would pin old WAL files forever).
  dbo.db_write_buffer_size = 2 * opts.writeBufferBytes;
  dbo.max_total_wal_size = 4 * opts.writeBufferBytes;
  // Each file being written (the WAL, a flush's or a compaction's table) buffers its appends;
  // RocksDB lets that buffer grow to 1 MiB per file. 256 KiB keeps writes large enough for the
  // disk and the three buffers of an ingest (WAL, flush, compaction) under 1 MiB together.
  dbo.writable_file_max_buffer_size = 256 * 1024;
  dbo.stats_dump_period_sec = 0;
  dbo.stats_persist_period_sec = 0;
  dbo.keep_log_file_num = 1;

  auto cache = rocksdb::NewLRUCache(opts.blockCacheBytes);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.block_size = 16 * 1024;
  std::shared_ptr<rocksdb::TableFactory> tableFactory(rocksdb::NewBlockBasedTableFactory(table));

  auto cfOptions = [&](uint64_t writeBuffer) {
    rocksdb::ColumnFamilyOptions o;
    o.table_factory = tableFactory;
    o.compression = compression;
    o.bottommost_compression = bottommost;
    o.write_buffer_size = writeBuffer;
    o.max_write_buffer_number = 2;
    o.min_write_buffer_number_to_merge = 1;
    o.level_compaction_dynamic_level_bytes = true;
    o.target_file_size_base = std::max<uint64_t>(opts.writeBufferBytes, 4 * kMiB);
    o.max_bytes_for_level_base = 4 * o.target_file_size_base;
    // A level-0 compaction waits for ~16 MiB of flushed memtables whatever their size: a small
    // write buffer (the memory goals) flushes more often but compacts no more often. At most 8
    // files, well below the level-0 count at which RocksDB slows writes down (20).
    o.level0_file_num_compaction_trigger = static_cast<int>(
        std::clamp<uint64_t>(16 * kMiB / std::max<uint64_t>(writeBuffer, 1), 4, 8));
    return o;
  };
  uint64_t small = std::min<uint64_t>(opts.writeBufferBytes, 4 * kMiB);
  for (size_t i = 0; i < kCfCount; ++i) {
    bool big = i == kLogs || i == kSystem;
    out.cfs.emplace_back(kCfNames[i], cfOptions(big ? opts.writeBufferBytes : small));
  }

  out.write.sync = opts.syncWrites;
  out.summary = std::string("compression ") + compressionName(compression) + ", sync_writes " +
                (opts.syncWrites ? "true" : "false");
  return out;
}

}  // namespace zc::storage
