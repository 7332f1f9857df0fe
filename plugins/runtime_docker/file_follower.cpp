#include "file_follower.h"

#include <algorithm>

#include "docker_json.h"
#include "file_source.h"

namespace zc::docker {

using plugin::LogLevel;
using namespace std::chrono_literals;

namespace {
// Lines are decoded from at most this many bytes per run before the others get a turn.
constexpr size_t kRunBudgetBytes = 8 << 20;
// The most text bytes in one chunk read from a file, whatever chunk_max_bytes allows: the next
// bytes are on disk, not on their way, so a larger chunk saves no wait; it only holds more lines,
// and the batch storage builds from them, at once (1,000 lines instead of 4,000 took 1 MiB off
// the json-file ingest's peak RSS at the same rate: bench/RESULTS.md).
constexpr size_t kFileChunkMaxBytes = 128 << 10;
// A quiet file: how long before the container is inspected (then at most this often): half a
// second, or restart_grace when shorter.
constexpr auto kQuietBeforeInspectMax = 500ms;

TimeNs nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

FileFollower::FileFollower(std::shared_ptr<EngineClient> engine,
                           std::shared_ptr<logfile::TailHub> hub, plugin::Logger* logger,
                           plugin::ContainerInfo container, std::string logPath,
                           const LogCursor& cursor, plugin::LogConsumer* consumer,
                           FollowOptions options, LogFileFormat format,
                           logfile::Rotation rotation)
    : engine_(std::move(engine)),
      hub_(std::move(hub)),
      logger_(logger),
      container_(std::move(container)),
      consumer_(consumer),
      opts_(options),
      startCursor_(cursor),
      // A json-file line holds one piece of at most 16 KiB, escaped (up to 6 bytes a byte).
      tail_(std::move(logPath), std::max<size_t>(8 << 20, options.partialPieceBytes * 8),
            rotation),
      format_(format),
      assembler_(LineAssembler::Options{options.maxLineBytes, options.partialPieceBytes}) {
  lines_.reserve(64);
  if (rotation == logfile::Rotation::kReplace) {
    // A file replaced twice between two looks is seen only in the count of files created at
    // the path (the hub's inotify watch of its folder).
    tail_.setCreationCounter(
        [hub = hub_.get(), path = tail_.path()] { return hub->createdCount(path); });
  }
}

FileFollower::~FileFollower() { stop(); }

void FileFollower::start() {
  lastData_ = std::chrono::steady_clock::now();
  uint64_t h = hub_->add(tail_.path(), [this] { run(); });
  handle_ = h;
  hub_->wake(h);
}

void FileFollower::stop() noexcept {
  stopRequested_ = true;
  if (runner_.load() == std::this_thread::get_id()) return;  // the run ends it after consume()
  uint64_t h = handle_.exchange(0);
  if (h != 0) hub_->remove(h);  // waits for a run in progress
  // A run that was ending the follow by itself (it took the handle first) finishes first.
  while (runner_.load() != std::thread::id()) std::this_thread::sleep_for(1ms);
  end(Status::aborted("follow stopped"));
}

void FileFollower::log(LogLevel level, const std::string& msg) const {
  if (logger_) logger_->log(level, "docker logs " + container_.name + " (file): " + msg);
}

void FileFollower::end(Status why) {
  if (ended_.exchange(true)) return;
  consumer_->ended(std::move(why));
}

void FileFollower::resume() {
  const LogCursor& c = startCursor_;
  bool byPosition = false;
  if (c.file) {
    logfile::FilePosition pos{{c.file->dev, c.file->ino, c.file->headLen, c.file->headHash},
                              c.file->offset};
    auto found = tail_.seek(pos);
    if (!found.isOk()) {
      log(LogLevel::kWarn, "cannot look for the cursor's file: " + found.status().toString());
    } else if (found.value()) {
      byPosition = true;
      skip_[0] = c.file->skipOut;
      skip_[1] = c.file->skipErr;
    } else {
      log(LogLevel::kInfo, "the cursor's log file is no longer there; resuming by time");
    }
  }
  if (!byPosition) {
    Status st = tail_.seekOldest();
    if (!st.isOk()) log(LogLevel::kWarn, "cannot open the log file: " + st.toString());
  }
  // By position nothing needs filtering (and timestamps may go backwards); by time the
  // timestamp part drops what was delivered and finds a gap, as through the API.
  assembler_.reset(c, !byPosition);
  lastEnd_ = tail_.position();
  resumedByPosition_ = byPosition;
}

bool FileFollower::onLine(std::string_view line, const logfile::FilePosition& start,
                          const logfile::FilePosition& next) {
  if (tail_.takeDiscontinuity() && !onDiscontinuity()) return false;
  lastEnd_ = next;
  logfile::LogRecord rec;
  Status st = format_ == LogFileFormat::kCri ? criDecoder_.decode(line, &rec)
                                             : decoder_.decode(line, &rec);
  if (!st.isOk()) {
    ++corrupt_;
    auto now = std::chrono::steady_clock::now();
    if (now >= nextCorruptWarn_) {
      log(LogLevel::kWarn, "skipped a malformed line at offset " + std::to_string(start.offset) +
                               ": " + st.message() + " (" + std::to_string(corrupt_.load()) +
                               " so far)");
      nextCorruptWarn_ = now + 60s;
    }
    return true;
  }
  const size_t s = index(rec.stream);
  if (gapPending_) {
    gapPending_ = false;
    if (!fileGap_) {
      // Files deleted by the engine before this follow reached them: one gap, count unknown.
      const StreamPosition& p = assembler_.cursor().at(rec.stream);
      fileGap_ = plugin::LogGap{rec.stream, p.lastTs, rec.ts, std::nullopt};
      log(LogLevel::kWarn, "log files were rotated away before they were read; reporting a gap");
    }
  }
  ++seen_[s];
  ++seq_;
  if (skip_[s] > 0) {  // delivered before the resume
    --skip_[s];
    return true;
  }
  const bool wasPending = assembler_.cursor().at(rec.stream).pendingTs != 0;
  assembler_.messageAt(rec.stream, rec.ts, rec.content.data(), rec.content.size(), lines_);
  const bool isPending = assembler_.cursor().at(rec.stream).pendingTs != 0;
  if (isPending && !wasPending) {
    pending_[s].at = start;
    pending_[s].seenBefore[0] = seen_[0];
    pending_[s].seenBefore[1] = seen_[1];
    --pending_[s].seenBefore[s];  // this record is the line's own
    pending_[s].seq = seq_;
    pieces_[s] = 1;
  } else if (isPending) {
    ++pieces_[s];
  } else {
    pieces_[s] = 0;
  }
  if (lines_.size() >= std::max<size_t>(1, opts_.chunkMaxLines) ||
      assembler_.emittedBytes() >=
          std::clamp<size_t>(opts_.chunkMaxBytes, 1, kFileChunkMaxBytes)) {
    return deliver();
  }
  return true;
}

bool FileFollower::onDiscontinuity() {
  // A line whose first pieces were read before the hole: its other pieces may be among what was
  // lost, so it is not joined with whatever comes after the hole: it goes out as it is (the
  // assembler completes it), before the gap.
  assembler_.finish(lines_);
  // A chunk's gap is stored before all of its lines: the lines read before the hole go out
  // first, in a chunk of their own (its cursor: the position before the hole).
  if (!lines_.empty() && !deliver()) return false;
  gapPending_ = true;
  return true;
}

bool FileFollower::deliverLoneGap() {
  if (tail_.takeDiscontinuity() && !onDiscontinuity()) return false;
  if (!gapPending_ || !lines_.empty()) return true;
  // A discontinuity with no line after it (yet, or ever: the container may not write again):
  // the gap is stored now, on its own, up to now. The cursor moves past the hole (the start of
  // the file the tail went on to, so a resume does not report it again) only when that file has
  // a first line to know it by: an empty file's position is its inode alone, which a deleted
  // file's successor may reuse, and a resume there could skip files in silence. Otherwise the
  // cursor stays before the hole, and a resume reports the gap again.
  gapPending_ = false;
  if (!fileGap_) {
    const LogCursor& c = assembler_.cursor();
    const bool errLater = c.err.lastTs > c.out.lastTs;
    fileGap_ = plugin::LogGap{errLater ? LogStream::kStderr : LogStream::kStdout,
                              std::max(c.out.lastTs, c.err.lastTs), nowNs(), std::nullopt};
    log(LogLevel::kWarn, "log files were rotated away before they were read; reporting a gap");
  }
  if (consumerDone_ || stopRequested_) return false;
  if (const logfile::FilePosition past = tail_.position(); past.file.headLen > 0) lastEnd_ = past;
  plugin::LogChunk chunk;
  chunk.cursor = cursorNow().encode();
  chunk.gap = fileGap_;
  fileGap_.reset();
  if (!consumer_->consume(std::move(chunk))) consumerDone_ = true;
  return !consumerDone_ && !stopRequested_;
}

LogCursor FileFollower::cursorNow() const {
  LogCursor c = assembler_.cursor();
  const bool pend[2] = {c.out.pendingTs != 0, c.err.pendingTs != 0};
  FileCursor f;
  logfile::FilePosition at = lastEnd_;
  uint64_t skip[2] = {0, 0};
  if (pend[0] || pend[1]) {
    size_t a = pend[0] && pend[1] ? (pending_[0].seq < pending_[1].seq ? 0 : 1) : (pend[0] ? 0 : 1);
    at = pending_[a].at;
    for (size_t s = 0; s < 2; ++s) {
      skip[s] = seen_[s] - pending_[a].seenBefore[s] - (pend[s] ? pieces_[s] : 0);
    }
  }
  f.dev = at.file.dev;
  f.ino = at.file.ino;
  f.headLen = at.file.headLen;
  f.headHash = at.file.headHash;
  f.offset = at.offset;
  f.skipOut = static_cast<uint32_t>(std::min<uint64_t>(skip[0], UINT32_MAX));
  f.skipErr = static_cast<uint32_t>(std::min<uint64_t>(skip[1], UINT32_MAX));
  c.file = f;
  return c;
}

bool FileFollower::deliver() {
  if (lines_.empty()) return !consumerDone_;
  if (consumerDone_ || stopRequested_) return false;
  plugin::LogChunk chunk;
  chunk.lines = std::move(lines_);
  chunk.cursor = cursorNow().encode();
  chunk.gap = assembler_.takeGap();
  if (fileGap_ && !chunk.gap) chunk.gap = fileGap_;
  fileGap_.reset();
  lines_ = {};
  lines_.reserve(64);
  assembler_.takeEmittedBytes();
  if (!consumer_->consume(std::move(chunk))) consumerDone_ = true;
  return !consumerDone_ && !stopRequested_;
}

bool FileFollower::containerDone(Status* why) {
  auto now = std::chrono::steady_clock::now();
  bool running;
  if (engine_) {
    auto info = engine_->getObject("/containers/" + container_.containerId + "/json");
    if (!info.isOk() && info.status().isNotFound()) {
      *why = Status::notFound("container " + container_.containerId + " is gone");
      return true;
    }
    if (!info.isOk()) {
      log(LogLevel::kWarn, "cannot inspect the container: " + info.status().toString());
      return false;
    }
    running = inspectRunning(info.value());
  } else {
    running = !containerStopped_.load();
  }
  if (running) {
    stoppedOnce_ = false;
    return false;
  }
  // A `docker restart` passes through "not running" for a moment: finish only when it is still
  // stopped restart_grace later and nothing was written meanwhile.
  if (!stoppedOnce_ || readSinceStopSeen_ > 0) {
    stoppedOnce_ = true;
    stoppedSeen_ = now;
    readSinceStopSeen_ = 0;
    return false;
  }
  if (now - stoppedSeen_ < opts_.restartGrace) return false;
  *why = Status::ok();
  return true;
}

void FileFollower::run() {
  if (ended_.load()) return;
  runner_ = std::this_thread::get_id();
  struct ClearRunner {
    std::atomic<std::thread::id>& r;
    ~ClearRunner() { r = std::thread::id(); }
  } clear{runner_};
  auto finishBecause = [&](Status why) {
    uint64_t h = handle_.exchange(0);
    if (h != 0) hub_->remove(h);
    end(std::move(why));
  };
  if (stopRequested_) return finishBecause(Status::aborted("follow stopped"));
  if (!started_) {
    resume();
    started_ = true;
  }
  auto now = std::chrono::steady_clock::now();
  const bool verify = now >= nextVerify_;
  if (verify) nextVerify_ = now + 1s;
  const uint64_t seqBefore = seq_;
  auto r = tail_.read(
      [this](std::string_view line, const logfile::FilePosition& start,
             const logfile::FilePosition& next) { return onLine(line, start, next); },
      kRunBudgetBytes, verify);
  if (std::string w = tail_.takeWarning(); !w.empty()) log(LogLevel::kWarn, w);
  if (consumerDone_) return finishBecause(Status::aborted("the consumer ended the follow"));
  if (stopRequested_) return finishBecause(Status::aborted("follow stopped"));
  if (!r.isOk()) {
    // Read again at the next wake-up (the poll at the latest).
    log(LogLevel::kWarn, "reading the log file: " + r.status().toString());
  }
  if (!deliver()) {
    return finishBecause(Status::aborted(consumerDone_ ? "the consumer ended the follow"
                                                       : "follow stopped"));
  }
  const bool idle = r.isOk() && r.value() == logfile::FileTail::ReadOutcome::kIdle;
  if (idle && !deliverLoneGap()) {
    return finishBecause(Status::aborted(consumerDone_ ? "the consumer ended the follow"
                                                       : "follow stopped"));
  }
  now = std::chrono::steady_clock::now();
  if (seq_ != seqBefore) {
    lastData_ = now;
    readSinceStopSeen_ += seq_ - seqBefore;
  }
  if (r.isOk() && r.value() == logfile::FileTail::ReadOutcome::kMore) {
    hub_->wake(handle_.load());  // more is there: after the others had their turn
    return;
  }
  if (now - lastData_ < std::min<std::chrono::steady_clock::duration>(kQuietBeforeInspectMax, opts_.restartGrace)) {
    return;
  }
  Status why;
  if (!containerDone(&why)) {
    lastData_ = now;  // inspect again after another quiet spell
    return;
  }
  assembler_.finish(lines_);
  if (!deliver() && !lines_.empty()) {
    return finishBecause(Status::aborted("the consumer ended the follow"));
  }
  finishBecause(std::move(why));
}

std::shared_ptr<logfile::TailHub> SharedTailHub::get() {
  std::lock_guard<std::mutex> lock(mu_);
  auto hub = hub_.lock();
  if (!hub) {
    hub = std::make_shared<logfile::TailHub>(options_);
    hub_ = hub;
  }
  return hub;
}

bool SharedTailHub::firstWithoutInotify(const logfile::TailHub& hub) {
  std::lock_guard<std::mutex> lock(mu_);
  if (hub.inotifyActive() || warnedHub_ == &hub) return false;
  warnedHub_ = &hub;
  return true;
}

std::unique_ptr<plugin::Subscription> startFileFollow(
    LogSource source, const std::shared_ptr<EngineClient>& engine, SharedTailHub& hubs,
    plugin::Logger* logger, const plugin::ContainerInfo& container, const LogCursor& cursor,
    plugin::LogConsumer* consumer, const FollowOptions& options) {
  if (source == LogSource::kApi) return nullptr;
  auto path = fileLogPath(*engine, container.containerId);
  if (!path.isOk()) {
    // Through the API instead: it retries an engine that does not answer, and ends the follow
    // of a container that is gone.
    if (source == LogSource::kFile && logger != nullptr) {
      logger->log(plugin::LogLevel::kWarn, "docker logs " + container.name +
                                               ": log_source=file, but the json-file cannot be "
                                               "used (" + path.status().message() +
                                               "); following through the Engine API");
    }
    return nullptr;
  }
  if (logger != nullptr) {
    logger->log(plugin::LogLevel::kInfo,
                "docker logs " + container.name + ": reading the json-file " + path.value());
  }
  auto hub = hubs.get();
  if (logger != nullptr && hubs.firstWithoutInotify(*hub)) {
    logger->log(plugin::LogLevel::kWarn,
                "json-file follows run without inotify (no inotify instance left: "
                "fs.inotify.max_user_instances): each file is looked at only every "
                "file_poll_interval, and a flood through small rotated files can lose files "
                "between two looks (each hole is reported as a gap)");
  }
  auto f = std::make_unique<FileFollower>(engine, hub, logger, container, path.value(), cursor,
                                          consumer, options);
  f->start();
  return f;
}

}  // namespace zc::docker
