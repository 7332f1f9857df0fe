#include "loop_follower.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "docker_json.h"

namespace zc::docker {

using plugin::LogLevel;
using namespace std::chrono_literals;

namespace {
constexpr size_t kReadBuffer = 256 * 1024;
// Bytes one step reads before it lets the other follows have the worker.
constexpr size_t kStepBudget = 4 * 1024 * 1024;
// How long the body of a response other than 200 is waited for (it only goes into a message).
constexpr auto kErrorBodyWait = 1000ms;
}  // namespace

LoopFollower::LoopFollower(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
                           plugin::ContainerInfo container, const LogCursor& cursor,
                           plugin::LogConsumer* consumer, FollowOptions options)
    : engine_(std::move(engine)),
      logger_(logger),
      container_(std::move(container)),
      consumer_(consumer),
      opts_(options),
      assembler_(LineAssembler::Options{options.maxLineBytes, options.partialPieceBytes}),
      backoff_(options.backoffInitial),
      currentStall_(options.stallTimeout) {
  assembler_.reset(cursor);
}

LoopFollower::~LoopFollower() {
  if (fd_ >= 0) ::close(fd_);  // only when the loop went away before the follow ended
}

void LoopFollower::log(LogLevel level, const std::string& msg) const {
  if (logger_) logger_->log(level, "docker logs " + container_.name + ": " + msg);
}

std::string LoopFollower::logsPath(const std::string& prefix) const {
  std::string p = prefix + "/containers/" + container_.containerId +
                  "/logs?follow=1&stdout=1&stderr=1&timestamps=1";
  TimeNs since = assembler_.cursor().sinceNs(opts_.resumeMarginNs);
  if (since > 0) p += "&since=" + formatSince(since);
  return p;
}

bool LoopFollower::deliver() {
  if (lines_.empty()) return !consumerDone_;
  if (consumerDone_) return false;
  plugin::LogChunk chunk;
  chunk.lines = std::move(lines_);
  chunk.cursor = assembler_.cursor().encode();
  chunk.gap = assembler_.takeGap();
  lines_ = {};
  assembler_.takeEmittedBytes();
  if (!consumer_->consume(std::move(chunk))) consumerDone_ = true;
  // A consume that held the follow is not silence from the engine.
  lastData_ = Clock::now();
  return !consumerDone_;
}

LoopWait LoopFollower::finish(Status why) {
  closeFd(fd_);
  parser_.reset();
  phase_ = Phase::kDone;
  if (!ended_) {
    ended_ = true;
    consumer_->ended(std::move(why));
  }
  return LoopWait{-1, 0, std::nullopt, false, true};
}

LoopWait LoopFollower::backoff() {
  closeFd(fd_);
  parser_.reset();
  wakeAt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, opts_.backoffMax);
  phase_ = Phase::kBackoff;
  return LoopWait{-1, 0, wakeAt_, false, false};
}

LoopWait LoopFollower::step() noexcept {
  try {
    if (stopRequested()) return finish(Status::aborted("follow stopped"));
    auto now = Clock::now();
    switch (phase_) {
      case Phase::kOpen:
        return open();
      case Phase::kSend:
        return send();
      case Phase::kStream:
        return stream();
      case Phase::kGrace:
        if (now < wakeAt_) return LoopWait{-1, 0, wakeAt_, false, false};
        return afterGrace();
      case Phase::kBackoff:
        if (now < wakeAt_) return LoopWait{-1, 0, wakeAt_, false, false};
        phase_ = Phase::kOpen;
        return open();
      case Phase::kDone:
        return LoopWait{-1, 0, std::nullopt, false, true};
    }
    return LoopWait{-1, 0, std::nullopt, false, true};
  } catch (const std::exception& e) {
    // Allocation failure inside a step: nothing was delivered past the cursor; start over later.
    log(LogLevel::kError, std::string("follow step failed: ") + e.what() + "; reopening");
    lines_.clear();
    return backoff();
  }
}

LoopWait LoopFollower::open() {
  auto prefix = engine_->apiPrefix();  // a request only until the version is negotiated
  if (!prefix.isOk()) {
    log(LogLevel::kWarn, "engine unavailable: " + prefix.status().toString());
    return backoff();
  }
  if (stopRequested()) return finish(Status::aborted("follow stopped"));
  // Continue from what was delivered: pending pieces are read again, the overlap is dropped.
  std::string path = logsPath(prefix.value());
  assembler_.reset(assembler_.cursor());
  lines_.clear();
  parser_ = std::make_unique<LogStreamParser>(
      assembler_, lines_,
      LogStreamParser::Limits{opts_.maxLineBytes, opts_.partialPieceBytes, opts_.chunkMaxLines,
                              opts_.chunkMaxBytes},
      container_.tty);
  ++opens_;
  before_ = assembler_.cursor();
  batching_ = lingering_ = false;
  lingerFrom_ = kNoLinger;

  const std::string& socketPath = engine_->socketPath();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof(addr.sun_path)) {
    log(LogLevel::kWarn, "docker socket path too long: " + socketPath);
    return backoff();
  }
  std::memcpy(addr.sun_path, socketPath.data(), socketPath.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    log(LogLevel::kWarn,
        std::string("cannot open the log stream: socket(): ") + std::strerror(errno));
    return backoff();
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS) {
    log(LogLevel::kWarn, "cannot open the log stream: cannot connect to " + socketPath + ": " +
                             std::strerror(errno));
    return backoff();
  }
  request_.clear();
  request_.append("GET ").append(path).append(
      " HTTP/1.1\r\nHost: docker\r\nUser-Agent: zynd-collector\r\nAccept: */*\r\n\r\n");
  sent_ = 0;
  headDeadline_ = Clock::now() + engine_->timeout();
  phase_ = Phase::kSend;
  return send();
}

LoopWait LoopFollower::send() {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
    log(LogLevel::kWarn, "cannot open the log stream: cannot connect to " + engine_->socketPath() +
                             ": " + std::strerror(err));
    return backoff();
  }
  while (sent_ < request_.size()) {
    ssize_t w = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
    if (w > 0) {
      sent_ += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN)) {
      if (Clock::now() >= headDeadline_) {
        log(LogLevel::kWarn, "cannot open the log stream: timed out sending the request");
        return backoff();
      }
      return waitFd(EPOLLOUT, headDeadline_);
    }
    log(LogLevel::kWarn,
        std::string("cannot open the log stream: send to the engine: ") + std::strerror(errno));
    return backoff();
  }
  phase_ = Phase::kStream;
  lastData_ = Clock::now();
  setReadAhead(fd_);
  return stream();
}

LoopWait LoopFollower::rejected() {
  int code = parser_->status();
  std::string body = parser_->errorBody();
  log(LogLevel::kWarn, "engine answered " + std::to_string(code) + " to the log request: " +
                           EngineClient::errorMessage(HttpResult{code, body}));
  return backoff();
}

LoopWait LoopFollower::stream() {
  static thread_local std::vector<char> buf(kReadBuffer);
  auto due = [this] { return deliver() && !stopRequested(); };
  auto stopped = [this]() -> std::optional<LoopWait> {
    if (stopRequested()) return finish(Status::aborted("follow stopped"));
    if (consumerDone_) return finish(Status::aborted("the consumer ended the follow"));
    return std::nullopt;
  };
  size_t budget = kStepBudget;
  while (true) {
    // Read what the socket holds.
    while (true) {
      if (auto s = stopped()) return *s;
      ssize_t r = readSome(fd_, buf.data(), buf.size());
      if (r > 0) {
        auto now = Clock::now();
        lastData_ = now;
        lingering_ = false;
        const bool hadHead = parser_->headComplete();
        Status st = parser_->feed(buf.data(), static_cast<size_t>(r), due);
        if (auto s = stopped()) return *s;
        if (!st.isOk()) {
          if (!parser_->headComplete()) {
            log(LogLevel::kWarn, "cannot open the log stream: " + st.toString());
            return backoff();
          }
          return streamEnded(StreamEndKind::kBroken, st.toString());
        }
        if (!hadHead && parser_->headComplete()) {
          if (parser_->status() == 404) {
            return finish(Status::notFound("container " + container_.containerId + " is gone"));
          }
          errorDeadline_ = now + kErrorBodyWait;
        }
        if (parser_->headComplete() && parser_->status() != 200) {
          if (parser_->bodyComplete()) return rejected();
        } else if (parser_->bodyComplete()) {
          st = parser_->finish(due);
          if (auto s = stopped()) return *s;
          if (!st.isOk()) return streamEnded(StreamEndKind::kBroken, st.toString());
          return streamEnded(StreamEndKind::kClean, "");
        }
        if (lines_.empty()) {
          batching_ = false;
        } else if (!batching_) {
          batching_ = true;
          batchStart_ = now;
          lingerFrom_ = kNoLinger;
        }
        if (static_cast<size_t>(r) >= budget) return LoopWait{-1, 0, std::nullopt, true, false};
        budget -= static_cast<size_t>(r);
        continue;
      }
      if (r == 0) {
        if (!parser_->headComplete()) {
          log(LogLevel::kWarn,
              "cannot open the log stream: engine closed the connection before "
              "responding");
          return backoff();
        }
        if (parser_->status() != 200) return rejected();
        Status st = parser_->atEof(due);
        if (auto s = stopped()) return *s;
        if (!st.isOk()) return streamEnded(StreamEndKind::kBroken, st.toString());
        return streamEnded(StreamEndKind::kClean, "");
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      std::string why = std::string("reading from the engine: ") + std::strerror(errno);
      if (!parser_->headComplete()) {
        log(LogLevel::kWarn, "cannot open the log stream: " + why);
        return backoff();
      }
      return streamEnded(StreamEndKind::kBroken, why);
    }

    // The socket is drained.
    auto now = Clock::now();
    if (!parser_->headComplete()) {
      if (now < headDeadline_) return waitFd(EPOLLIN, headDeadline_);
      log(LogLevel::kWarn,
          "cannot open the log stream: timed out waiting for the engine's response");
      return backoff();
    }
    if (parser_->status() != 200) {
      if (now < errorDeadline_) return waitFd(EPOLLIN, errorDeadline_);
      return rejected();
    }
    if (lines_.empty()) {
      auto stallAt = lastData_ + currentStall_;
      if (now < stallAt) return waitFd(EPOLLIN, stallAt);
      return streamEnded(StreamEndKind::kStalled,
                         "no data for " + std::to_string(currentStall_.count()) + " ms");
    }
    // Lines wait. During a flood the engine sends one message per HTTP chunk, so a reader faster
    // than the engine would hand over a line or two per chunk: linger a moment (once per empty
    // read, within chunkMaxDelay; the loop reads the socket ahead meanwhile, and a full buffer or
    // the stream's end ends the linger early) to let a batch build up, for as long as each
    // linger brings at least chunkLingerMinLines.
    const bool lingerPays = lingerFrom_ == kNoLinger || lines_.size() < lingerFrom_ ||
                            lines_.size() - lingerFrom_ >= opts_.chunkLingerMinLines;
    if (!lingering_ && lingerPays && opts_.chunkLinger.count() > 0 &&
        now - batchStart_ < opts_.chunkMaxDelay) {
      lingering_ = true;
      lingerFrom_ = lines_.size();
      auto linger = std::max<Clock::duration>(opts_.chunkLinger, 1ms);
      return LoopWait{-1, 0, now + linger, false, false};
    }
    lingering_ = false;
    batching_ = false;
    lingerFrom_ = kNoLinger;
    if (!deliver()) return finish(Status::aborted("the consumer ended the follow"));
    // More may have come while the consumer worked: read again before waiting.
  }
}

LoopWait LoopFollower::streamEnded(StreamEndKind how, const std::string& why) {
  closeFd(fd_);  // close the connection before anything else
  parser_.reset();
  if (!deliver()) return finish(Status::aborted("the consumer ended the follow"));
  if (stopRequested()) return finish(Status::aborted("follow stopped"));
  const bool productive = cursorMoved(before_, assembler_.cursor());
  if (how == StreamEndKind::kBroken) {
    log(LogLevel::kWarn, "log stream broke: " + why + "; reopening");
  }
  if (how == StreamEndKind::kStalled) {
    log(LogLevel::kDebug, "log stream stalled (" + why + "); reopening from the cursor");
  }
  Status failure;
  // After a stall the reopen itself tells what the inspect would (a gone container answers 404
  // and the follow ends NotFound; a stopped one's stream closes at once, then it is inspected;
  // an unreachable engine fails the open, which backs off): no inspect here, unless a partial
  // line is pending (a gone container's pending line is delivered complete, which a 404 on the
  // reopen would not do). The inspect is a blocking request on a loop worker, and idle
  // containers stall every few seconds: with 200 of them, the 4 workers were found asleep in
  // those requests 40% of the time while a burst waited.
  const bool skipInspect = how == StreamEndKind::kStalled && !assembler_.hasPending();
  const InspectedState state = skipInspect
                                   ? InspectedState::kRunning
                                   : inspectContainer(*engine_, container_.containerId, &failure);
  const StreamEndDecision d = decideAfterStreamEnd(how, productive, state, drained_, currentStall_,
                                                   opts_.stallTimeout, opts_.stallTimeoutMax);
  // Not inspected after a stall: a stream that stayed open until the stall timeout belongs to a
  // running container (a stopped one's stream closes at once), so whatever run was drained
  // before, the one now running is not.
  drained_ = skipInspect ? false : d.drained;
  currentStall_ = d.stall;
  if (d.resetBackoff) backoff_ = opts_.backoffInitial;
  switch (d.next) {
    case AfterStreamEnd::kGone:
      assembler_.finish(lines_);
      deliver();
      return finish(Status::notFound("container " + container_.containerId + " is gone"));
    case AfterStreamEnd::kRetry:
      log(LogLevel::kWarn, "cannot inspect the container: " + failure.toString());
      return backoff();
    case AfterStreamEnd::kDone:
      assembler_.finish(lines_);
      if (!deliver()) return finish(Status::aborted("the consumer ended the follow"));
      return finish(Status::ok());
    case AfterStreamEnd::kGrace:
      phase_ = Phase::kGrace;
      wakeAt_ = Clock::now() + opts_.restartGrace;
      return LoopWait{-1, 0, wakeAt_, false, false};
    case AfterStreamEnd::kBackoff:
      return backoff();
    case AfterStreamEnd::kReopen:
      break;
  }
  phase_ = Phase::kOpen;
  return LoopWait{-1, 0, std::nullopt, true, false};  // reopen, after the other follows' turn
}

LoopWait LoopFollower::afterGrace() {
  const InspectedState again = inspectContainer(*engine_, container_.containerId);
  if (again == InspectedState::kGone) {
    assembler_.finish(lines_);
    deliver();
    return finish(Status::notFound("container " + container_.containerId + " is gone"));
  }
  drained_ = drainedAfterGrace(again);
  backoff_ = opts_.backoffInitial;
  phase_ = Phase::kOpen;
  return open();
}

}  // namespace zc::docker
