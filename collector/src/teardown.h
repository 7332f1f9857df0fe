// Teardown: releases what a stopped deployment holds, on a thread of its own.
//
// For each deployment the registry reports as stopped and not torn down yet, in this order (a
// step with nothing left to release, e.g. a container someone else removed, is skipped): stop
// the container (stop signal, grace, kill), wait until its follow has read the stopped
// container's log to the end and storage has taken it, remove it, remove the proxy route,
// release the port (the registry clears containerId/hostPort and writes
// `[STOP] teardown complete: ...`), then end its live streams. The wait for the log has no time
// limit (storage may refuse writes for as long as the disk is full): a pass whose log is not
// stored yet leaves that deployment for the next pass, and the next collector resumes it after a
// shutdown (a stored row that still names a container or a port). Each failed step is a
// `[STOP] ...` system line. Passes run on a PeriodicTask, every 5 s and at wake(). A removal
// refused because the engine is unreachable is retried on the next pass with nothing released;
// any other refusal is given up after three passes and the container is left in place (a new
// stop request retries it: the registry reports it again). A retry is idempotent. A deployment
// that runs again (deployed again under the same id) before its removal or its route step is
// left alone from that step on.
//
// OWNERSHIP: the registry, runtime, router and bus are borrowed and must outlive stop();
// `runtime` and `router` may be null. The Teardown owns its thread (the PeriodicTask's).
// Thread-safety: wake() from any thread; start() and stop() from one (stop() is idempotent, also
// run by the destructor).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "periodic_task.h"
#include "zc/host/live_bus.h"
#include "zc/model.h"
#include "zc/plugin/router.h"
#include "zc/plugin/runtime.h"

namespace zc::collector {

// What the teardown needs of the registry of deployments. Called on the teardown thread; the
// implementation must be thread-safe.
class TeardownRegistry {
 public:
  virtual ~TeardownRegistry() = default;
  // Ids of the stopped deployments whose teardown has not run to its end: teardownDone() not
  // called since the stop (or since a new stop retried a teardown that gave up).
  virtual std::vector<std::string> pendingTeardowns() const = 0;
  virtual std::optional<Deployment> row(const std::string& id) const = 0;
  // True when `containerId` no longer runs and its log has been read to the end and stored (or
  // the container no longer exists). False otherwise, and then the registry makes sure a follow
  // is reading it (e.g. after a follow that ended with an error). May block for a few seconds.
  virtual bool logStored(const std::string& id, const std::string& containerId) = 0;
  // Stores a system line, retrying later when storage refuses it.
  virtual void systemLine(const std::string& id, std::string text) = 0;
  // Clears hostPort and (unless `containerLeft`) containerId, then writes `line`; from then on
  // the deployment is no longer pending.
  virtual void teardownDone(const std::string& id, bool containerLeft, std::string line) = 0;
};

class Teardown {
 public:
  Teardown(TeardownRegistry& registry, plugin::Runtime* runtime, plugin::Router* router,
           host::LiveBus& bus, std::chrono::seconds stopGrace);

  void start() { task_.start(); }
  // Asks for a pass now (a deployment was stopped).
  void wake() { task_.wake(); }
  // Ends the pass in progress at its next step (a runtime call under way finishes first) and
  // joins the thread.
  void stop() noexcept { task_.stop(); }

 private:
  void pass();
  void run(const std::string& id);
  bool stillStopped(const std::string& id) const;

  TeardownRegistry& registry_;
  plugin::Runtime* const runtime_;
  plugin::Router* const router_;
  host::LiveBus& bus_;
  const std::chrono::seconds stopGrace_;
  // What the teardown keeps of one pending stop, between its passes.
  struct StopProgress {
    int removalAttempts = 0;        // failed removals in a row
    bool signalled = false;         // the stop signal was taken
    bool signalFailedSaid = false;  // its failure was said (once)
  };
  std::map<std::string, StopProgress> progress_;  // teardown thread only; by deployment id
  PeriodicTask task_;  // last: stopped (destroyed) before what its passes use
};

}  // namespace zc::collector
