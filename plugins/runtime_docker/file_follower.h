// FileFollower: one container's log follow read from the engine's json-file on disk
// (log_source=file|auto, file_source.h), implementing the exactly-once contract of
// zc/plugin/runtime.h like LogFollower does through the API, with the same lines: the records
// (logfile::JsonFileDecoder) go through the same LineAssembler (16 KiB pieces joined, CRLF,
// max_line_bytes), so both ways yield the same lines and the same timestamp cursor.
//
// No thread of its own: it runs on the shared logfile::TailHub (one inotify watcher and a few
// workers for every file follow). A run reads up to chunk_max_lines / chunk_max_bytes of lines
// (at most 128 KiB of text: the next bytes are on disk, a larger chunk would only hold more in
// memory) through the logfile::FileTail, hands them over as one chunk (consume() may block: that
// holds one hub worker), and asks for another run while more is there.
//
// Cursor: LogCursor with its file part (log_cursor.h): the position right after the last
// delivered record, or, while a line is pending (its first 16 KiB pieces read, the rest not
// yet), the position of its first piece plus, per stream, how many records after that position
// were delivered already (dropped on resume). Resume: the file part found among the live and
// rotated files (renamed `.N`, compressed `.N.gz`) -> continue there, whatever the timestamps
// say (a wall-clock step back cannot lose or repeat a line); no file part (the cursor came from
// the API) or its file is gone -> read every file still there from the oldest, drop what the
// timestamp part covers and report a gap as the API follow does (LineAssembler's rule).
//
// End: when the file has been quiet for a while the container is inspected; stopped (and still
// so after restart_grace, with nothing new read) -> pending pieces completed, last chunk,
// ended(OK); gone -> the same, ended(NotFound).
//
// Thread-safety: stop() may be called from any thread (also from the consumer's callbacks).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.h"
#include "file_source.h"
#include "file_tail.h"
#include "cri_decoder.h"
#include "json_file_decoder.h"
#include "line_assembler.h"
#include "log_cursor.h"
#include "log_follower.h"
#include "tail_hub.h"
#include "zc/plugin/runtime.h"

namespace zc::docker {

// The record format of the followed file: Docker's json-file, or CRI / k8s-file (Podman's
// conmon). A CRI `P` record is a partial piece whatever its length: give such a follow
// FollowOptions::partialPieceBytes = 1 so that the line assembler joins every one of them.
enum class LogFileFormat { kJsonFile, kCri };

class FileFollower final : public plugin::Subscription {
 public:
  // OWNERSHIP: `consumer` and `logger` must outlive this object; `engine` may be null (tests:
  // then the container counts as running until stopped, and `stopped()` ends it).
  FileFollower(std::shared_ptr<EngineClient> engine, std::shared_ptr<logfile::TailHub> hub,
               plugin::Logger* logger, plugin::ContainerInfo container, std::string logPath,
               const LogCursor& cursor, plugin::LogConsumer* consumer, FollowOptions options,
               LogFileFormat format = LogFileFormat::kJsonFile,
               logfile::Rotation rotation = logfile::Rotation::kRename);
  ~FileFollower() override;

  // Registers with the hub and runs once at once.
  void start();
  void stop() noexcept override;

  // Tests without an engine: the container stopped (the follow ends once the file is read).
  void markContainerStopped() noexcept { containerStopped_ = true; }

  // Diagnostics and tests.
  uint64_t corruptLines() const noexcept { return corrupt_.load(); }
  bool resumedByPosition() const noexcept { return resumedByPosition_.load(); }
  // The birth time of the first file read from the start of the log (FileTail::
  // startFileBirthNs()). Only from the follow's own run (e.g. inside consume()).
  std::optional<TimeNs> startFileBirth() const noexcept { return tail_.startFileBirthNs(); }

 private:
  struct PendingStart {
    logfile::FilePosition at;  // the first piece's record
    uint64_t seenBefore[2] = {0, 0};  // records seen per stream before it
    uint64_t seq = 0;
  };

  void run();
  void resume();
  bool onLine(std::string_view line, const logfile::FilePosition& start,
              const logfile::FilePosition& next);
  // The tail went on past a hole: the pending pieces of a line are completed as they are and
  // delivered with the lines before the hole; the gap goes with the next line. false: stop.
  bool onDiscontinuity();
  // At the end of what there is to read: a gap with no line after it is delivered on its own
  // (a chunk of no lines). false: stop.
  bool deliverLoneGap();
  LogCursor cursorNow() const;
  bool deliver();
  void end(Status why);
  // Whether the follow should end now that the file is quiet (inspects the container).
  bool containerDone(Status* why);
  void log(plugin::LogLevel level, const std::string& msg) const;
  static size_t index(LogStream s) noexcept { return s == LogStream::kStderr ? 1 : 0; }

  std::shared_ptr<EngineClient> engine_;
  std::shared_ptr<logfile::TailHub> hub_;
  plugin::Logger* logger_;
  plugin::ContainerInfo container_;
  plugin::LogConsumer* consumer_;
  FollowOptions opts_;
  LogCursor startCursor_;

  // Touched by runs only (one at a time).
  logfile::FileTail tail_;
  const LogFileFormat format_;
  logfile::JsonFileDecoder decoder_;
  logfile::CriDecoder criDecoder_;
  LineAssembler assembler_;
  std::vector<plugin::RawLine> lines_;
  bool started_ = false;
  bool consumerDone_ = false;
  uint64_t skip_[2] = {0, 0};
  uint64_t seen_[2] = {0, 0};
  uint64_t seq_ = 0;
  uint64_t pieces_[2] = {0, 0};
  PendingStart pending_[2];
  logfile::FilePosition lastEnd_;
  std::chrono::steady_clock::time_point lastData_;
  std::chrono::steady_clock::time_point stoppedSeen_{};
  bool stoppedOnce_ = false;
  uint64_t readSinceStopSeen_ = 0;
  std::chrono::steady_clock::time_point nextVerify_{};
  std::chrono::steady_clock::time_point nextCorruptWarn_{};
  std::optional<plugin::LogGap> fileGap_;  // files deleted unread, for the next chunk
  bool gapPending_ = false;  // a discontinuity seen; the gap is made from the next good record

  std::atomic<uint64_t> handle_{0};
  std::atomic<bool> stopRequested_{false};
  std::atomic<bool> ended_{false};
  std::atomic<bool> containerStopped_{false};
  std::atomic<std::thread::id> runner_{};
  std::atomic<uint64_t> corrupt_{0};
  std::atomic<bool> resumedByPosition_{false};
};

// The hub every file follow of one runtime shares, created with the first one and gone with the
// last. Thread-safe.
class SharedTailHub {
 public:
  explicit SharedTailHub(logfile::TailHub::Options options) : options_(options) {}
  std::shared_ptr<logfile::TailHub> get();
  // true once per hub that runs without inotify (the caller warns: every file is then only
  // looked at each poll interval, and a flood can rotate files away between two looks).
  bool firstWithoutInotify(const logfile::TailHub& hub);

 private:
  logfile::TailHub::Options options_;
  std::mutex mu_;
  std::weak_ptr<logfile::TailHub> hub_;
  const logfile::TailHub* warnedHub_ = nullptr;
};

// followLogs() by file: with `source` auto or file and a usable json-file (file_source.h),
// starts and returns a FileFollower; otherwise nullptr (follow through the API; with `file`, a
// warning says why).
std::unique_ptr<plugin::Subscription> startFileFollow(
    LogSource source, const std::shared_ptr<EngineClient>& engine, SharedTailHub& hubs,
    plugin::Logger* logger, const plugin::ContainerInfo& container, const LogCursor& cursor,
    plugin::LogConsumer* consumer, const FollowOptions& options);

}  // namespace zc::docker
