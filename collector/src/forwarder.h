// Forwarder: hands the sink (--sink) a copy of what local storage has committed, in order, and
// keeps how far each deployment has got.
//
// Local storage is the source of truth and the buffer. Every pass lists the stored deployments
// and, for each, sends the sink the row (when it changed since it was last sent), the lines after
// the sink's acknowledged lineNo and the samples after its acknowledged sampledAt, in batches of
// at most `batchLines` lines. The sink stores a batch and its position atomically; the forwarder
// asks the sink for the position after every (re)connection, so a crash or reconnect at any point
// neither loses nor repeats anything. While the sink is away (open() or write() Unavailable) the
// forwarder waits with exponential backoff and tries again; ingest never waits for it: it only
// reads storage, on its own thread.
//
// OWNERSHIP: storage, sink and clock must outlive the forwarder; the forwarder opens the sink,
// and its owner closes it after stop(). Thread-safety: start()/stop() from one thread; stats()
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "periodic_task.h"
#include "zc/clock.h"
#include "zc/plugin/sink.h"
#include "zc/plugin/storage.h"

namespace zc::collector {

struct ForwarderOptions {
  std::chrono::milliseconds interval{200};  // a caught-up forwarder looks again after this
  size_t batchLines = 5000;                 // most lines in one sink write
  size_t batchSamples = 5000;               // most samples in one sink write
  std::chrono::milliseconds backoffInitial{250};
  std::chrono::milliseconds backoffMax{10000};
  std::chrono::milliseconds passBudget{2000};  // a pass yields after this, to refresh the lag
};

// Figures for /healthz and /metrics.
struct ForwardStats {
  bool connected = false;
  std::string detail;          // the sink's last failure while not connected (no secrets)
  uint64_t lagLines = 0;       // committed lines the sink has not acknowledged
  double lagSeconds = 0;       // age of the oldest of them (0 when none)
  uint64_t linesForwarded = 0; // acknowledged since start (counter)
  uint64_t samplesForwarded = 0;
  uint64_t batchesForwarded = 0;
  uint64_t failures = 0;       // failed open() or write() calls
};

class Forwarder {
 public:
  Forwarder(plugin::Storage& storage, plugin::Sink& sink, plugin::SinkHostInfo host, Clock& clock,
            ForwarderOptions options = {});
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Starts the forwarder thread (the first pass, which opens the sink, runs at once).
  void start();
  // Stops and joins the thread; a write under way finishes first.
  void stop() noexcept;
  ForwardStats stats() const;
  // The last lineNo of `id` the sink has acknowledged, as of the last pass (0 when none or not
  // known yet: the conservative answer for whoever must not drop unforwarded lines). Any thread.
  uint64_t acknowledgedLineNo(std::string_view id) const;

  // One pass as the thread runs it (for tests that drive the forwarder without its thread).
  void runPass();
  // Runs the next pass now rather than after the interval (lines were just committed). Wakes
  // that come during a pass make one more pass. Any thread; does nothing before start().
  void wake() noexcept;

  // Called on the forwarder's thread, at most about once a second, for each stop the sink says
  // was recorded at the destination (a central DELETE); the request is acknowledged
  // (Sink::stopTaken) only when it returns OK. Set before start().
  using StopHandler = std::function<Status(const std::string& deploymentId)>;
  void setStopHandler(StopHandler handler) { onStop_ = std::move(handler); }

 private:
  struct Progress {
    bool known = false;  // position read from the sink since the last (re)connection
    plugin::SinkPosition position;
    std::optional<Deployment> sentRow;
  };

  bool ensureOpen();
  // Forwards one deployment as far as the budget allows; false when the sink failed.
  bool forwardDeployment(const Deployment& row, std::chrono::steady_clock::time_point deadline);
  void noteFailure(const Status& st, const char* what);
  void measureLag(const std::vector<Deployment>& rows);
  void takeStops();

  plugin::Storage& storage_;
  plugin::Sink& sink_;
  const plugin::SinkHostInfo host_;
  Clock& clock_;
  const ForwarderOptions opts_;

  // Forwarder thread only.
  bool open_ = false;
  std::chrono::milliseconds backoff_;
  std::chrono::steady_clock::time_point nextOpen_{};
  std::string lastLogged_;   // the last open/connection failure logged
  std::string lastRefusal_;  // the last refused write logged
  std::map<std::string, Progress, std::less<>> progress_;
  StopHandler onStop_;
  std::chrono::steady_clock::time_point nextStopCheck_{};

  mutable std::mutex statsMu_;
  ForwardStats stats_;  // guarded by statsMu_
  std::map<std::string, uint64_t, std::less<>> acked_;  // guarded by statsMu_; set by measureLag

  std::unique_ptr<PeriodicTask> task_;
};

}  // namespace zc::collector
