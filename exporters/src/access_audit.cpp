#include "access_audit.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "zc/clock.h"
#include "zc/exporters/json_writer.h"
#include "zc/model.h"

namespace zc::exporters {

std::string auditLine(const AuditEntry& entry, int64_t timeNs) {
  JsonWriter w;
  w.beginObject();
  w.key("time").string(formatRfc3339Millis(timeNs));
  w.key("peer").string(entry.peer);
  w.key("token");
  if (entry.token.empty()) {
    w.null();
  } else {
    w.string(entry.token);
  }
  w.key("method").string(entry.method);
  w.key("path").string(entry.path);
  w.key("status").integer(entry.status);
  w.endObject();
  return w.take() + "\n";
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::ioError("cannot open audit log '" + path + "': " + std::strerror(errno));
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, path));
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::write(const AuditEntry& entry) noexcept {
  try {
    const std::string line = auditLine(entry, systemClock().now());
    std::lock_guard lock(mu_);
    ssize_t n;
    do {
      n = ::write(fd_, line.data(), line.size());
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(line.size())) {
      spdlog::error("audit log {}: write failed: {}", path_,
                    n < 0 ? std::strerror(errno) : "short");
    }
  } catch (const std::exception& e) {
    spdlog::error("audit log {}: {}", path_, e.what());
  }
}

}  // namespace zc::exporters
