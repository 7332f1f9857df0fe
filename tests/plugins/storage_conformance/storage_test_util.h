// Helpers shared by the storage tests and the crash-test writer: a logger that keeps what
// plugins say, and opening a storage plugin through the real loader.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/storage.h"

namespace zc::testing {

// Keeps every message; prints warnings and errors to stderr. Thread-safe.
class RecordingLogger final : public plugin::Logger {
 public:
  void log(plugin::LogLevel level, std::string_view message) noexcept override {
    std::lock_guard lock(mu_);
    if (level >= plugin::LogLevel::kWarn) {
      std::fprintf(stderr, "[plugin %s] %.*s\n",
                   level == plugin::LogLevel::kWarn ? "warn" : "error",
                   static_cast<int>(message.size()), message.data());
    }
    messages_.emplace_back(message);
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> messages_;
};

// Creates storage plugin `name` from `registry` with `options` (open() is left to the caller).
// The caller keeps `logger` and `clock` alive for the life of the storage.
inline Result<host::PluginPtr<plugin::Storage>> createStorage(
    const host::PluginRegistry& registry, const std::string& name,
    std::map<std::string, std::string> options, plugin::Logger* logger, Clock* clock) {
  plugin::PluginContext ctx;
  ctx.options = std::move(options);
  ctx.logger = logger;
  ctx.clock = clock;
  return registry.create<plugin::Storage>(name, ctx);
}

// lineNo `n` of deployment `id` with a text that names it.
inline LogLine makeLine(const std::string& id, uint64_t n, TimeNs ts,
                        LogStream stream = LogStream::kStdout) {
  return LogLine{id, n, stream, ts, "line " + std::to_string(n), false};
}

// A batch of `count` lines starting at `first`, all at `ts`.
inline plugin::LogBatch makeBatch(const std::string& id, uint64_t first, size_t count, TimeNs ts,
                                  LogStream stream = LogStream::kStdout) {
  plugin::LogBatch b;
  b.deploymentId = id;
  b.lines.reserve(count);
  for (size_t i = 0; i < count; ++i) b.lines.push_back(makeLine(id, first + i, ts, stream));
  return b;
}

}  // namespace zc::testing
