#include "rocksdb_logger.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

namespace zc::storage {

ForwardingLogger::ForwardingLogger(plugin::Logger* target)
    : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), target_(target) {}

void ForwardingLogger::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void ForwardingLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel()) return;
  char buf[1024];
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(buf, sizeof buf, format, copy);
  va_end(copy);
  if (n < 0) return;
  std::string_view msg(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  plugin::LogLevel ours = plugin::LogLevel::kDebug;
  switch (level) {
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      ours = plugin::LogLevel::kWarn;
      break;
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
    case rocksdb::InfoLogLevel::FATAL_LEVEL:
      ours = plugin::LogLevel::kError;
      break;
    default:
      break;
  }
  std::string line = "rocksdb: ";
  line.append(msg);
  target_->log(ours, line);
}

}  // namespace zc::storage
