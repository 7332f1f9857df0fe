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
                                                          std::optional<TimeNs> runStartedAt) {
  if (!fileBorn || !runStartedAt) return std::nullopt;  // unknown: say nothing
  if (*fileBorn <= *runStartedAt || firstLine.ts < *fileBorn) return std::nullopt;
  return plugin::LogGap{firstLine.stream, *runStartedAt, firstLine.ts, std::nullopt};
}

bool ReplacedLogGuard::consume(plugin::LogChunk&& chunk) noexcept {
  if (!checked_ && !chunk.lines.empty()) {
    checked_ = true;
    if (!chunk.gap) {
      chunk.gap = gapBefore(chunk.lines.front(), fileBirthTime(logPath_), startedAt_);
    }
  }
  return next_->consume(std::move(chunk));
}

}  // namespace zc::podman
