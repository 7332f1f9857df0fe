// EventSubscriber: the engine's container events on their own thread (the Subscription that
// subscribeEvents() returns).
//
// GET /events?filters={"type":["container"],"event":[create,start,restart,die,oom,stop,destroy]}
// is newline-delimited JSON; each event of a deployment container becomes a RuntimeEvent (die
// carries Actor.Attributes.exitCode). After every (re)connect kConnected is sent (the host
// reconciles with listDeployments()); when the stream breaks, kDisconnected, then a reconnect
// with backoff (first retry within 1 s, doubling, capped at 30 s; reset after a connection that
// lived a while).
//
// Thread-safety: stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <vector>

#include "engine_client.h"
#include "http_stream.h"
#include "zc/clock.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

struct EventOptions {
  std::chrono::milliseconds backoffInitial{250};
  std::chrono::milliseconds backoffMax{30000};
  std::chrono::milliseconds healthyAfter{10000};  // a connection this old resets the backoff
  size_t maxEventBytes = 1 << 20;
  std::vector<std::string> selectLabels;  // KEY=VALUE every container's events must carry
  // The members of the `filters` object besides the labels (eventFiltersQuery()); empty = the
  // Docker engine's container events. Another engine may name its events differently (Podman
  // filters on `died` and `remove`; parseEvent() knows both names).
  std::string filterBase;
  std::string engineName = "docker";  // how its warnings name the engine
};

// Checks an event whose deployment id came from a label alone (docker_json.h parseEvent):
// returns false to drop it; may rewrite its deploymentId. Runs on the event thread.
using LabelClaimCheck = std::function<bool(plugin::RuntimeEvent&)>;

class EventSubscriber final : public plugin::Subscription {
 public:
  // OWNERSHIP: `consumer`, `logger` and `clock` must outlive this object. Without
  // `checkLabelClaim` such events are passed on as parsed.
  EventSubscriber(std::shared_ptr<EngineClient> engine, plugin::Logger* logger, Clock* clock,
                  plugin::EventConsumer* consumer, EventOptions options,
                  LabelClaimCheck checkLabelClaim = {});
  ~EventSubscriber() override;
  void start();
  void stop() noexcept override;

 private:
  void run();
  // Reads events until the stream ends; returns why.
  std::string pump(HttpStream& stream);
  void emit(plugin::RuntimeEventType type);

  std::shared_ptr<EngineClient> engine_;
  plugin::Logger* logger_;
  Clock* clock_;
  plugin::EventConsumer* consumer_;
  EventOptions opts_;
  LabelClaimCheck checkLabelClaim_;
  StopSignal stopSignal_;
  std::thread thread_;
};

// The URL-encoded filters parameter used for /events (container events carrying every label of
// `selectLabels`).
// `filterBase` as EventOptions::filterBase (empty = Docker's).
std::string eventFiltersQuery(const std::vector<std::string>& selectLabels = {},
                              std::string_view filterBase = {});

}  // namespace zc::docker
