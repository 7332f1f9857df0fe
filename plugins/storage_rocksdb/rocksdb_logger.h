// ForwardingLogger: RocksDB's info log, routed to the host's logger instead of a LOG file.
//
// RocksDB's INFO is chatty (every flush and compaction), so it lands at the host's debug level;
// WARN at warn, ERROR and FATAL at error. Each message is prefixed "rocksdb: " and cut at 1023
// bytes. OWNERSHIP: the target logger is the host's and outlives the plugin object, hence every
// DB this logger is given to. Thread-safe (the host logger is).
#pragma once

#include <rocksdb/env.h>

#include <cstdarg>

#include "zc/plugin/plugin.h"

namespace zc::storage {

class ForwardingLogger final : public rocksdb::Logger {
 public:
  explicit ForwardingLogger(plugin::Logger* target);

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

 private:
  plugin::Logger* target_;
};

}  // namespace zc::storage
