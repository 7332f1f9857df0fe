#include "zc/plugin/storage.h"

#include <limits>

namespace zc::plugin {

TimeNs retentionCutoff(TimeNs now, int64_t ttl) noexcept {
  if (now < std::numeric_limits<TimeNs>::min() + ttl) return std::numeric_limits<TimeNs>::min();
  return now - ttl;
}

Status validateLogBatchShape(const LogBatch& batch) {
  const std::string& id = batch.deploymentId;
  ZC_RETURN_IF_ERROR(validateDeploymentId(id));
  const auto& lines = batch.lines;
  for (size_t i = 0; i < lines.size(); ++i) {
    const LogLine& line = lines[i];
    if (line.deploymentId != id) {
      return Status::invalidArgument("appendLogs: line " + std::to_string(line.lineNo) +
                                     " belongs to '" + line.deploymentId + "', not '" + id + "'");
    }
    if (line.stream != LogStream::kStdout && line.stream != LogStream::kStderr &&
        line.stream != LogStream::kSystem) {
      return Status::invalidArgument("appendLogs: line " + std::to_string(line.lineNo) +
                                     " has an unknown stream");
    }
    if (line.lineNo != lines[0].lineNo + i) {
      return Status::failedPrecondition("appendLogs: batch for '" + id +
                                        "' is not contiguous: line " + std::to_string(i) +
                                        " has lineNo " + std::to_string(line.lineNo) +
                                        ", expected " + std::to_string(lines[0].lineNo + i));
    }
  }
  return Status::ok();
}

}  // namespace zc::plugin
