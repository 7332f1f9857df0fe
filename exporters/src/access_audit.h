// AuditLog: one JSON line per audited request, appended to a file opened with O_APPEND:
//   {"time":"<RFC 3339 UTC>","peer":"<address>","token":"<name>"|null,"method":"DELETE",
//    "path":"/api/deployments/x","status":202}
// Each line is built first and written with a single write() under a mutex, so lines from
// concurrent workers never interleave and a worker waits at most for one other write.
//
// Thread-safety: write() is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "zc/status.h"

namespace zc::exporters {

struct AuditEntry {
  std::string peer;
  std::string token;  // empty: null
  std::string method;
  std::string path;
  int status = 0;
};

// The JSON line for `entry` at `timeNs` (Unix nanoseconds), with its trailing '\n'.
std::string auditLine(const AuditEntry& entry, int64_t timeNs);

class AuditLog {
 public:
  // Opens (creates with mode 0600) `path` for appending; IOError when it cannot.
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends the line for `entry` now. A failed write is logged, never thrown.
  void write(const AuditEntry& entry) noexcept;

 private:
  explicit AuditLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  std::mutex mu_;
  int fd_;
  std::string path_;
};

}  // namespace zc::exporters
