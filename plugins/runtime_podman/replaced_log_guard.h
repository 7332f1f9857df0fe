// ReplacedLogGuard: the one loss the file follow cannot see by itself. A follow that starts from
// the beginning of a container's log (the empty cursor) has no line to miss: if Podman's
// max-size had already REPLACED the file (a new file, no backup) before the follow opened it,
// the lines of the replaced file are gone and nothing says so. A replaced file is born after the
// container's run started (conmon creates the first one before it starts the process), and the
// lines it holds are stamped after its birth; so when the first line of such a follow is
// stamped at or after the birth of the file now at the log path, and that birth is after the
// run's start, the first chunk carries a gap (count unknown) from the run's start to that line.
//
// It sits between the file follow and the host's consumer and changes nothing else.
// Thread-safety: as a LogConsumer (one call at a time).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "zc/plugin/runtime.h"

namespace zc::podman {

// The birth time of the file at `path` (statx), nullopt when unknown (file system without it).
std::optional<TimeNs> fileBirthTime(const std::string& path);

class ReplacedLogGuard final : public plugin::LogConsumer {
 public:
  // OWNERSHIP: `next` must outlive this object. `runStartedAt`: the container's StartedAt.
  ReplacedLogGuard(std::string logPath, std::optional<TimeNs> runStartedAt,
                   plugin::LogConsumer* next)
      : logPath_(std::move(logPath)), startedAt_(runStartedAt), next_(next) {}

  // The birth time of the file the follow actually opened first (FileFollower::
  // startFileBirth()); without it (or when it is unknown) the file now at the path is used,
  // which may be a later replacement whose birth is after the first line.
  void setFileBirthSource(std::function<std::optional<TimeNs>()> source) {
    birthSource_ = std::move(source);
  }
  bool consume(plugin::LogChunk&& chunk) noexcept override;
  void ended(Status why) noexcept override { next_->ended(std::move(why)); }

  // The rule, pure (tests): the gap to report before `firstLine`, if any. `bornOfTheFileRead`:
  // `fileBorn` is the birth of the file the first line was read from (else: of the file at the
  // path, possibly a later one).
  static std::optional<plugin::LogGap> gapBefore(const plugin::RawLine& firstLine,
                                                 std::optional<TimeNs> fileBorn,
                                                 std::optional<TimeNs> runStartedAt,
                                                 bool bornOfTheFileRead = false);

 private:
  std::string logPath_;
  std::optional<TimeNs> startedAt_;
  plugin::LogConsumer* next_;
  bool checked_ = false;
  std::function<std::optional<TimeNs>()> birthSource_;
};

}  // namespace zc::podman
