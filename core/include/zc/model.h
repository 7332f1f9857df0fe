// The domain model: deployments, their log lines and metric samples.
//
// These are plain values shared by the daemon, every plugin and every exporter. Times are
// nanoseconds since the Unix epoch (UTC) in an int64 (TimeNs); 0 is never a valid time and means
// "absent" only where a field says so. Strings are bytes: log text is stored exactly as the
// container wrote it (invalid UTF-8 and control bytes included); exporters sanitise on output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zc/status.h"

namespace zc {

using TimeNs = int64_t;
constexpr TimeNs kNanosPerSecond = 1'000'000'000;

// A deployment id: 1-64 characters of [A-Za-z0-9_-]. Every entry point (REST paths, container
// names and labels, storage keys) rejects anything else with this function; storage keys rely on
// an id never containing '\0' or '/'.
constexpr size_t kMaxDeploymentIdLength = 64;
bool isValidDeploymentId(std::string_view id) noexcept;
// OK, or InvalidArgument with a message that names the id (escaped) and the rule.
Status validateDeploymentId(std::string_view id);

enum class DeploymentStatus : uint8_t { kRunning = 0, kUnhealthy = 1, kCrashed = 2, kStopped = 3 };
// "running", "unhealthy", "crashed", "stopped".
std::string_view toString(DeploymentStatus s) noexcept;
std::optional<DeploymentStatus> parseDeploymentStatus(std::string_view s) noexcept;

// One deployment (an agent's container) as the collector knows it. Empty strings and empty
// optionals are "absent" (JSON null).
struct Deployment {
  std::string id;
  std::string name;
  std::string slug;
  std::string entityType;
  DeploymentStatus status = DeploymentStatus::kRunning;
  std::string publicUrl;
  std::string registryUrl;
  std::string entityId;
  std::string publicKey;
  std::optional<int> hostPort;
  std::string containerId;
  TimeNs createdAt = 0;
  std::optional<TimeNs> startedAt;
  std::optional<int> lastExitCode;
  std::optional<TimeNs> lastCrashAt;
  std::string errorMessage;
  // The proxy route a stop removes is always the one whose id is `id` (the deployer's convention);
  // no label names another.
  // The collector that serves the row (its --host-id). Filled by the collector when it hands a
  // row out (REST, sinks); storage plugins do not keep it.
  std::string host;

  friend bool operator==(const Deployment&, const Deployment&) = default;
};

enum class LogStream : uint8_t { kStdout = 1, kStderr = 2, kSystem = 3 };
// "stdout", "stderr", "system".
std::string_view toString(LogStream s) noexcept;
std::optional<LogStream> parseLogStream(std::string_view s) noexcept;

// One stored line. lineNo is 1, 2, 3, ... per deployment across all three streams, handed out by
// the deployment's single sequencer. `text` has no trailing newline (nor the '\r' of a CRLF line).
struct LogLine {
  std::string deploymentId;
  uint64_t lineNo = 0;
  LogStream stream = LogStream::kStdout;
  TimeNs ts = 0;  // when the runtime received the line (the engine's timestamp), ns precision
  std::string text;
  bool truncated = false;  // the line was longer than the cap and only its head is kept

  friend bool operator==(const LogLine&, const LogLine&) = default;
};

// One resource sample of a running deployment.
struct MetricSample {
  std::string deploymentId;
  TimeNs sampledAt = 0;
  double cpuPct = 0;  // % of one CPU, as `docker stats` shows it (100 = one full core)
  double memUsedMb = 0;  // usage minus inactive file cache, MiB
  double memLimitMb = 0;  // the container's limit (host memory when it has none), MiB

  friend bool operator==(const MetricSample&, const MetricSample&) = default;
};

// Time helpers shared by every layer.
// RFC 3339 UTC with nanoseconds, fixed width: "2026-11-28T00:29:42.123456789Z".
std::string formatRfc3339Nano(TimeNs t);
// RFC 3339 UTC with milliseconds: "2026-11-28T00:29:42.123Z" (REST output).
std::string formatRfc3339Millis(TimeNs t);
// Parses RFC 3339 (any fraction up to 9 digits, 'Z' or a +hh:mm offset). Rejects anything else.
Result<TimeNs> parseRfc3339(std::string_view s);

// Durations as operators write them: "90s", "15m", "1h", "7d", "250ms", or a bare number of
// seconds. Must be positive. Returns nanoseconds.
Result<int64_t> parseDuration(std::string_view s);

}  // namespace zc
