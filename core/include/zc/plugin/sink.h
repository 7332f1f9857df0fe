// Sink plugins: where a copy of what local storage has committed goes (PostgreSQL today), so
// that a fleet of collectors can be read in one place. Local storage stays the source of truth
// and the buffer: the host's forwarder (collector/src/forwarder.*) reads committed rows, lines
// and samples from storage and hands them to the sink in order; the sink acknowledges by
// position. A sink that is away never slows ingest: lines keep landing in local storage and are
// forwarded when it is back.
//
// The contract every sink plugin meets (tests/plugins/sink_conformance/ proves it for each):
//   - open() connects and prepares (e.g. creates or migrates a schema). Unavailable when the
//     destination cannot be reached or refuses the credentials: the host keeps collecting
//     locally and calls open() again later. FailedPrecondition when it can never work as
//     configured (e.g. a schema written by a newer version): the host logs it and retries
//     rarely.
//   - position(id) is what the sink has durably acknowledged for one deployment of this host:
//     {0, 0} for a deployment it has never seen.
//   - write(batch) stores the batch and the position it reaches in ONE atomic step: after a
//     crash or a lost connection at any point, position() covers exactly what is stored, so the
//     host resends from there and nothing is lost or stored twice. Lines already covered by the
//     stored position (a resend after a lost acknowledgement) are skipped, not repeated. A batch
//     whose lines are not ascending by one is refused (InvalidArgument) and nothing is written.
//     Unavailable when the connection failed: nothing or everything of the batch is stored, and
//     position() tells which.
// Thread-safety: the host calls every method from one thread (the forwarder), open() first and
// close() last; stats() may be called from any thread at any time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zc/model.h"
#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"

namespace zc::plugin {

// Who is forwarding: the collector's --host-id and --advertise-url (may be empty), and its
// version. Every row a sink writes is attributed to this host.
struct SinkHostInfo {
  std::string hostId;
  std::string advertiseUrl;
  std::string version;
};

// How far one deployment has been forwarded: the last lineNo and the sampledAt of the last
// metric sample the sink stored (0 = none yet).
struct SinkPosition {
  uint64_t lastLineNo = 0;
  TimeNs lastSampledAt = 0;
  friend bool operator==(const SinkPosition&, const SinkPosition&) = default;
};

// One atomic write for one deployment. `row` (when set) replaces the deployment's row (its
// `host` is the forwarding host). `lines` ascend by one lineNo and may start past
// position().lastLineNo + 1 (lines local retention deleted before they were forwarded are never
// sent). `samples` ascend by sampledAt; those not after position().lastSampledAt are skipped.
// After success the position is {lines.back().lineNo, samples.back().sampledAt} (each only when
// given and further than before).
struct SinkBatch {
  std::string deploymentId;
  std::optional<Deployment> row;
  std::vector<LogLine> lines;
  std::vector<MetricSample> samples;
};

// A stop recorded at the destination for one of this host's deployments (a DELETE served by a
// central instance): the host runs its usual stop, then acknowledges with stopTaken().
struct SinkStopRequest {
  std::string deploymentId;
  TimeNs requestedAt = 0;  // identifies the request: a later one is a new request
  friend bool operator==(const SinkStopRequest&, const SinkStopRequest&) = default;
};

struct SinkStats {
  bool connected = false;
  std::string detail;  // why not connected (no secrets), or empty
};

class Sink : public Plugin {
 public:
  static constexpr ZcPluginKind kKind = ZC_PLUGIN_KIND_SINK;

  // Connects and prepares; may be called again after any failure (it then starts over). See the
  // contract above for the codes.
  virtual Status open(const SinkHostInfo& host) noexcept = 0;
  // Releases the connection. Called once, after every other call has returned.
  virtual Status close() noexcept = 0;

  // The acknowledged position of one deployment of this host. Unavailable when disconnected.
  virtual Result<SinkPosition> position(std::string_view deploymentId) noexcept = 0;
  // Stores a batch and its position atomically (see the contract above).
  virtual Status write(const SinkBatch& batch) noexcept = 0;

  virtual SinkStats stats() noexcept = 0;

  // Stops recorded at the destination for this host's deployments and not yet taken, oldest
  // first. The host asks about every second while connected, so a sink may also record there
  // that the host is alive. Unavailable when disconnected. Default: none (a sink nobody writes
  // back to).
  virtual Result<std::vector<SinkStopRequest>> pendingStops() noexcept {
    return std::vector<SinkStopRequest>{};
  }
  // The host has started the stop of `request`: pendingStops() no longer returns it (a newer
  // request of the same deployment is returned again).
  virtual Status stopTaken(const SinkStopRequest& request) noexcept {
    (void)request;
    return Status::ok();
  }
};

}  // namespace zc::plugin
