#include "log_follower.h"

#include <algorithm>

#include "docker_json.h"
#include "stream_end_decision.h"

namespace zc::docker {

using plugin::LogLevel;
using namespace std::chrono_literals;

namespace {
// The engine's bound on one frame: a piece of a long line plus its timestamp; 64 KiB of slack
// over the line cap keeps any engine's larger pieces acceptable.
size_t frameBound(const FollowOptions& o) { return o.maxLineBytes + 64 * 1024; }
}  // namespace

LogFollower::LogFollower(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
                         plugin::ContainerInfo container, const LogCursor& cursor,
                         plugin::LogConsumer* consumer, FollowOptions options)
    : engine_(std::move(engine)),
      logger_(logger),
      container_(std::move(container)),
      consumer_(consumer),
      opts_(options),
      assembler_(LineAssembler::Options{options.maxLineBytes, options.partialPieceBytes}),
      decoder_(frameBound(options)),
      splitter_(options.partialPieceBytes) {
  assembler_.reset(cursor);
}

LogFollower::~LogFollower() {
  stop();
  if (thread_.joinable()) thread_.detach();  // only when destroyed from its own thread
}

void LogFollower::start() { thread_ = std::thread([this] { run(); }); }

void LogFollower::stop() noexcept {
  stopSignal_.trigger();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void LogFollower::log(LogLevel level, const std::string& msg) const {
  if (logger_) logger_->log(level, "docker logs " + container_.name + ": " + msg);
}

void LogFollower::end(Status why) {
  if (ended_.exchange(true)) return;
  consumer_->ended(std::move(why));
}

bool LogFollower::deliver() {
  if (lines_.empty()) return !consumerDone_;
  if (consumerDone_) return false;
  plugin::LogChunk chunk;
  chunk.lines = std::move(lines_);
  chunk.cursor = assembler_.cursor().encode();
  chunk.gap = assembler_.takeGap();
  lines_ = {};
  lines_.reserve(64);
  assembler_.takeEmittedBytes();
  if (!consumer_->consume(std::move(chunk))) consumerDone_ = true;
  return !consumerDone_;
}

std::string LogFollower::logsPath(const std::string& prefix) const {
  std::string p = prefix + "/containers/" + container_.containerId +
                  "/logs?follow=1&stdout=1&stderr=1&timestamps=1";
  TimeNs since = assembler_.cursor().sinceNs(opts_.resumeMarginNs);
  if (since > 0) p += "&since=" + formatSince(since);
  return p;
}

LogFollower::StreamEnd LogFollower::pump(HttpStream& stream, bool tty, std::string* why) {
  const size_t maxLines = std::max<size_t>(1, opts_.chunkMaxLines);
  const size_t maxBytes = std::max<size_t>(1, opts_.chunkMaxBytes);
  Status bad;
  // Called for each whole engine message; false stops the feed.
  auto onMessage = [&](LogStream s, const char* p, size_t n) {
    Status st = assembler_.message(s, p, n, lines_);
    if (!st.isOk()) {
      bad = st;
      return false;
    }
    if (lines_.size() >= maxLines || assembler_.emittedBytes() >= maxBytes) return deliver();
    return true;
  };
  auto onFrame = [&](FrameStream fs, const char* p, size_t n) {
    switch (fs) {
      case FrameStream::kStdout:
        return onMessage(LogStream::kStdout, p, n);
      case FrameStream::kStderr:
        return onMessage(LogStream::kStderr, p, n);
      case FrameStream::kEngineError:
        bad = Status::unavailable("engine error in the log stream: " +
                                  std::string(p, std::min<size_t>(n, 300)));
        return false;
      case FrameStream::kStdin:
        return true;
    }
    return true;
  };
  auto onRaw = [&](const char* p, size_t n) { return onMessage(LogStream::kStdout, p, n); };
  auto onBody = [&](const char* p, size_t n) {
    Status st = tty ? splitter_.feed(p, n, onRaw) : decoder_.feed(p, n, onFrame);
    if (!st.isOk() && bad.isOk()) bad = st;
    return bad.isOk() && !consumerDone_;
  };

  const auto stall = currentStall_;
  bool batching = false;  // lines_ holds lines since batchStart
  bool lingered = false;  // the previous read came after a linger
  constexpr size_t kNoLinger = static_cast<size_t>(-1);
  size_t lingerFrom = kNoLinger;  // lines_.size() when the batch's last linger began
  auto batchStart = std::chrono::steady_clock::now();
  while (true) {
    // Block (up to the stall timeout) only when nothing waits for delivery; otherwise just take
    // what the socket already holds.
    const bool idle = lines_.empty();
    auto r = stream.readBody(onBody, idle ? static_cast<int>(stall.count()) : 0);
    if (consumerDone_) return StreamEnd::kConsumerDone;
    if (!bad.isOk()) {
      *why = bad.toString();
      return StreamEnd::kBroken;
    }
    if (!r.isOk()) {
      *why = r.status().toString();
      return StreamEnd::kBroken;
    }
    switch (r.value()) {
      case HttpStream::Outcome::kStopped:
        return StreamEnd::kStopped;
      case HttpStream::Outcome::kTimeout: {
        if (idle) {
          *why = "no data for " + std::to_string(stall.count()) + " ms";
          return StreamEnd::kStalled;
        }
        // The received bytes are used up. During a flood the engine sends one message per HTTP
        // chunk, so a reader faster than the engine would hand over a line or two per chunk:
        // linger a moment (once per empty read, within chunkMaxDelay) to let a batch build up.
        auto now = std::chrono::steady_clock::now();
        // Lingering stops when a linger brought fewer than chunkLingerMinLines.
        const bool lingerPays = lingerFrom == kNoLinger || lines_.size() < lingerFrom ||
                                lines_.size() - lingerFrom >= opts_.chunkLingerMinLines;
        if (!lingered && lingerPays && opts_.chunkLinger.count() > 0 &&
            now - batchStart < opts_.chunkMaxDelay) {
          lingerFrom = lines_.size();
          if (stopSignal_.waitFor(std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::max(opts_.chunkLinger, std::chrono::microseconds(1000))))) {
            return StreamEnd::kStopped;
          }
          lingered = true;
          break;
        }
        lingered = false;
        batching = false;
        lingerFrom = kNoLinger;
        if (!deliver()) return StreamEnd::kConsumerDone;
        break;
      }
      case HttpStream::Outcome::kEnd:
        if (tty) {
          Status st = splitter_.finish(onRaw);
          if (!st.isOk()) bad = st;
        } else if (!decoder_.idle()) {
          bad = Status::unavailable("log stream ended inside a frame");
        }
        if (!bad.isOk()) {
          *why = bad.toString();
          return StreamEnd::kBroken;
        }
        return consumerDone_ ? StreamEnd::kConsumerDone : StreamEnd::kClean;
      case HttpStream::Outcome::kData:
        lingered = false;
        if (lines_.empty()) {
          batching = false;
        } else if (!batching) {
          batching = true;
          lingerFrom = kNoLinger;
          batchStart = std::chrono::steady_clock::now();
        }
        break;
    }
  }
}

void LogFollower::run() {
  auto backoff = opts_.backoffInitial;
  bool drained = false;  // the container was seen stopped and its log read once more since
  currentStall_ = opts_.stallTimeout;
  auto sleepBackoff = [&]() {
    bool stopped = stopSignal_.waitFor(backoff);
    backoff = std::min(backoff * 2, opts_.backoffMax);
    return !stopped;
  };
  while (true) {
    if (stopSignal_.stopped()) return end(Status::aborted("follow stopped"));
    auto prefix = engine_->apiPrefix();
    if (!prefix.isOk()) {
      log(LogLevel::kWarn, "engine unavailable: " + prefix.status().toString());
      if (!sleepBackoff()) return end(Status::aborted("follow stopped"));
      continue;
    }
    // Continue from what was delivered: pending pieces are read again, the overlap is dropped.
    std::string path = logsPath(prefix.value());
    assembler_.reset(assembler_.cursor());
    decoder_.reset();
    splitter_.reset();
    ++opens_;
    auto opened = HttpStream::open(engine_->socketPath(), path, engine_->timeout(), &stopSignal_);
    if (!opened.isOk()) {
      if (opened.status().code() == Status::Code::kAborted) {
        return end(Status::aborted("follow stopped"));
      }
      log(LogLevel::kWarn, "cannot open the log stream: " + opened.status().toString());
      if (!sleepBackoff()) return end(Status::aborted("follow stopped"));
      continue;
    }
    HttpStream& stream = *opened.value();
    int code = stream.response().status();
    if (code == 404) {
      return end(Status::notFound("container " + container_.containerId + " is gone"));
    }
    if (code != 200) {
      std::string body = stream.readErrorBody(4096, 1000);
      log(LogLevel::kWarn, "engine answered " + std::to_string(code) + " to the log request: " +
                               EngineClient::errorMessage(HttpResult{code, body}));
      if (!sleepBackoff()) return end(Status::aborted("follow stopped"));
      continue;
    }
    bool tty = container_.tty ||
               stream.response().header("Content-Type") == "application/vnd.docker.raw-stream";
    const LogCursor before = assembler_.cursor();
    std::string why;
    StreamEnd how = pump(stream, tty, &why);
    opened = Status::aborted("closed");  // close the connection before anything else
    if (how == StreamEnd::kStopped) return end(Status::aborted("follow stopped"));
    if (how == StreamEnd::kConsumerDone || !deliver()) {
      return end(Status::aborted("the consumer ended the follow"));
    }
    const bool productive = cursorMoved(before, assembler_.cursor());
    if (how == StreamEnd::kBroken) log(LogLevel::kWarn, "log stream broke: " + why + "; reopening");
    if (how == StreamEnd::kStalled) {
      log(LogLevel::kDebug, "log stream stalled (" + why + "); reopening from the cursor");
    }
    const StreamEndKind kind = how == StreamEnd::kBroken    ? StreamEndKind::kBroken
                               : how == StreamEnd::kStalled ? StreamEndKind::kStalled
                                                            : StreamEndKind::kClean;
    Status failure;
    const InspectedState state = inspectContainer(*engine_, container_.containerId, &failure);
    const StreamEndDecision d = decideAfterStreamEnd(
        kind, productive, state, drained, currentStall_, opts_.stallTimeout, opts_.stallTimeoutMax);
    drained = d.drained;
    currentStall_ = d.stall;
    if (d.resetBackoff) backoff = opts_.backoffInitial;
    switch (d.next) {
      case AfterStreamEnd::kGone:
        assembler_.finish(lines_);
        deliver();
        return end(Status::notFound("container " + container_.containerId + " is gone"));
      case AfterStreamEnd::kRetry:
        log(LogLevel::kWarn, "cannot inspect the container: " + failure.toString());
        if (!sleepBackoff()) return end(Status::aborted("follow stopped"));
        continue;
      case AfterStreamEnd::kDone:
        assembler_.finish(lines_);
        if (!deliver()) return end(Status::aborted("the consumer ended the follow"));
        return end(Status::ok());
      case AfterStreamEnd::kGrace: {
        if (stopSignal_.waitFor(opts_.restartGrace)) return end(Status::aborted("follow stopped"));
        const InspectedState again = inspectContainer(*engine_, container_.containerId);
        if (again == InspectedState::kGone) {
          assembler_.finish(lines_);
          deliver();
          return end(Status::notFound("container " + container_.containerId + " is gone"));
        }
        drained = drainedAfterGrace(again);
        backoff = opts_.backoffInitial;
        continue;
      }
      case AfterStreamEnd::kBackoff:
        if (!sleepBackoff()) return end(Status::aborted("follow stopped"));
        continue;
      case AfterStreamEnd::kReopen:
        continue;
    }
  }
}

}  // namespace zc::docker
