#include "event_subscriber.h"

#include <algorithm>
#include <cstring>

#include "docker_json.h"
#include "label_selector.h"

namespace zc::docker {

using plugin::LogLevel;
using plugin::RuntimeEventType;

std::string eventFiltersQuery(const std::vector<std::string>& selectLabels,
                              std::string_view filterBase) {
  constexpr std::string_view kDocker =
      R"("type":["container"],"event":["create","start","restart","die","oom","stop","destroy"])";
  return filtersQuery(filtersJson(filterBase.empty() ? kDocker : filterBase, selectLabels));
}

EventSubscriber::EventSubscriber(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
                                 Clock* clock, plugin::EventConsumer* consumer,
                                 EventOptions options, LabelClaimCheck checkLabelClaim)
    : engine_(std::move(engine)),
      logger_(logger),
      clock_(clock),
      consumer_(consumer),
      opts_(options),
      checkLabelClaim_(std::move(checkLabelClaim)) {}

EventSubscriber::~EventSubscriber() {
  stop();
  if (thread_.joinable()) thread_.detach();  // only when destroyed from its own thread
}

void EventSubscriber::start() { thread_ = std::thread([this] { run(); }); }

void EventSubscriber::stop() noexcept {
  stopSignal_.trigger();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void EventSubscriber::emit(RuntimeEventType type) {
  plugin::RuntimeEvent ev;
  ev.type = type;
  ev.ts = clock_->now();
  consumer_->onEvent(ev);
}

std::string EventSubscriber::pump(HttpStream& stream) {
  std::string line;
  bool overflow = false;
  auto onBody = [&](const char* p, size_t n) {
    while (n > 0) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
      size_t take = nl ? static_cast<size_t>(nl - p) : n;
      if (!overflow) {
        if (line.size() + take > opts_.maxEventBytes) {
          overflow = true;
          line.clear();
        } else {
          line.append(p, take);
        }
      }
      if (nl == nullptr) break;
      if (!overflow && !line.empty()) {
        bool labelClaim = false;
        if (auto ev = parseEvent(line, &labelClaim)) {
          if (!labelClaim || !checkLabelClaim_ || checkLabelClaim_(*ev)) consumer_->onEvent(*ev);
        }
      }
      line.clear();
      overflow = false;
      p = nl + 1;
      n -= take + 1;
    }
    return !stopSignal_.stopped();
  };
  while (true) {
    // Idle is normal for events: only the stop signal or the peer ends the wait.
    auto r = stream.readBody(onBody, 3'600'000);
    if (!r.isOk()) return r.status().toString();
    switch (r.value()) {
      case HttpStream::Outcome::kStopped:
        return {};
      case HttpStream::Outcome::kEnd:
        return "the engine ended the event stream";
      case HttpStream::Outcome::kTimeout:
      case HttpStream::Outcome::kData:
        break;
    }
    if (stopSignal_.stopped()) return {};
  }
}

void EventSubscriber::run() {
  auto backoff = opts_.backoffInitial;
  while (!stopSignal_.stopped()) {
    std::string why;
    auto connectedAt = std::chrono::steady_clock::now();
    bool connected = false;
    auto prefix = engine_->apiPrefix();
    if (!prefix.isOk()) {
      why = prefix.status().toString();
    } else {
      auto opened = HttpStream::open(engine_->socketPath(),
                                     prefix.value() + "/events?" + eventFiltersQuery(opts_.selectLabels, opts_.filterBase),
                                     engine_->timeout(), &stopSignal_);
      if (!opened.isOk()) {
        if (opened.status().code() == Status::Code::kAborted) return;
        why = opened.status().toString();
      } else if (opened.value()->response().status() != 200) {
        int code = opened.value()->response().status();
        why = "engine answered " + std::to_string(code) + ": " +
              EngineClient::errorMessage(HttpResult{code, opened.value()->readErrorBody(4096, 1000)});
      } else {
        connected = true;
        connectedAt = std::chrono::steady_clock::now();
        emit(RuntimeEventType::kConnected);
        why = pump(*opened.value());
        if (stopSignal_.stopped()) return;
        emit(RuntimeEventType::kDisconnected);
      }
    }
    if (connected && std::chrono::steady_clock::now() - connectedAt >= opts_.healthyAfter) {
      backoff = opts_.backoffInitial;
    }
    if (logger_) {
      logger_->log(LogLevel::kWarn, opts_.engineName + " events: " + why + "; reconnecting in " +
                                        std::to_string(backoff.count()) + " ms");
    }
    if (stopSignal_.waitFor(backoff)) return;
    backoff = std::min(backoff * 2, opts_.backoffMax);
  }
}

}  // namespace zc::docker
