#include "replaced_log_guard.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace zc::podman {

std::optional<TimeNs> fileBirthTime(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_BTIME, &st) != 0) return std::nullopt;
  if ((st.stx_mask & STATX_BTIME) == 0) return std::nullopt;
  return static_cast<TimeNs>(st.stx_btime.tv_sec) * kNanosPerSecond + st.stx_btime.tv_nsec;
}

std::optional<plugin::LogGap> ReplacedLogGuard::gapBefore(const plugin::RawLine& firstLine,
                                                          std::optional<TimeNs> fileBorn,
                                                          std::optional<TimeNs> runStartedAt,
                                                          bool bornOfTheFileRead) {
  if (!fileBorn || !runStartedAt) return std::nullopt;  // unknown: say nothing
  if (*fileBorn <= *runStartedAt) return std::nullopt;
  // Judged by the file at the path, a first line older than it was read from an earlier file
  // (the original one, perhaps). The file actually read needs no such check: conmon stamps a
  // line before it creates the file that line goes to, so its first line is a little older.
  if (!bornOfTheFileRead && firstLine.ts < *fileBorn) return std::nullopt;
  return plugin::LogGap{firstLine.stream, *runStartedAt, firstLine.ts, std::nullopt};
}

bool ReplacedLogGuard::consume(plugin::LogChunk&& chunk) noexcept {
  // The first chunk with lines, or with a gap (the follow's own, which already says the start
  // of the log is missing: a second one from here would repeat it), is the one judged.
  if (!checked_ && (!chunk.lines.empty() || chunk.gap)) {
    checked_ = true;
    if (!chunk.gap) {
      std::optional<TimeNs> born = birthSource_ ? birthSource_() : std::nullopt;
      const bool ofTheFileRead = born.has_value();
      if (!born) born = fileBirthTime(logPath_);
      chunk.gap = gapBefore(chunk.lines.front(), born, startedAt_, ofTheFileRead);
    }
  }
  return next_->consume(std::move(chunk));
}

}  // namespace zc::podman
