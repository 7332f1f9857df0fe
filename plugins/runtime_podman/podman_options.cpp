#include "podman_options.h"

#include <algorithm>

#include "label_selector.h"

namespace zc::podman {
namespace {

std::chrono::milliseconds millis(int64_t ns) {
  return std::chrono::milliseconds(std::max<int64_t>(1, ns / 1'000'000));
}

}  // namespace

std::vector<plugin::OptionSpec> podmanOptionSpecs() {
  using plugin::OptionType;
  constexpr int64_t kGiB = int64_t{1} << 30;
  return {
      {"socket", OptionType::kPath, kDefaultSocket, "Podman's API socket (podman system service)"},
      {"max_line_bytes", OptionType::kInt, "1048576",
       "longer lines keep their head and are marked truncated", 1024, kGiB},
      {"request_timeout", OptionType::kDuration, "30s", "timeout of each API request"},
      {"chunk_max_lines", OptionType::kInt, "4000", "most lines in one chunk", 1, 1'000'000},
      {"chunk_max_bytes", OptionType::kInt, "1048576", "most text bytes in one chunk", 1, kGiB},
      {"restart_grace", OptionType::kDuration, "1s",
       "a stopped container's log is read this long after its last line before the follow ends"},
      {"file_workers", OptionType::kInt, "4",
       "threads that read the log files of every followed container", 1, 64},
      {"file_poll_interval", OptionType::kDuration, "1s",
       "log files are also looked at this often (besides inotify)"},
      {"select_labels", OptionType::kString, "",
       "follow only containers carrying every KEY=VALUE of this comma list (--select-label)"},
      {"cgroup_root", OptionType::kPath, "/sys/fs/cgroup",
       "where the containers' cgroups are (memory.stat, OOM kills)"},
  };
}

Result<PodmanOptions> parsePodmanOptions(const std::map<std::string, std::string>& o) {
  ZC_ASSIGN_OR_RETURN(plugin::OptionValues v, plugin::OptionValues::parse(podmanOptionSpecs(), o));
  PodmanOptions r;
  r.socketPath = v.string("socket");
  if (r.socketPath.size() >= 108) {
    return Status::invalidArgument("socket: a Unix socket path must be shorter than 108 bytes");
  }
  r.requestTimeout = millis(v.durationNs("request_timeout"));
  docker::FollowOptions& f = r.follow;
  f.maxLineBytes = static_cast<size_t>(v.integer("max_line_bytes"));
  f.chunkMaxLines = static_cast<size_t>(v.integer("chunk_max_lines"));
  f.chunkMaxBytes = static_cast<size_t>(v.integer("chunk_max_bytes"));
  // Every CRI `P` record is a partial piece, whatever its length (file_follower.h).
  f.partialPieceBytes = 1;
  f.restartGrace = millis(v.durationNs("restart_grace"));
  ZC_ASSIGN_OR_RETURN(r.events.selectLabels, docker::parseSelectLabels(v.string("select_labels")));
  // libpod's names: `died` (emitted as died or die) and `remove`; it has no oom and no stop.
  r.events.filterBase = R"("type":["container"],"event":["create","start","restart","died","remove"])";
  r.events.engineName = "podman";
  r.fileHub.workers = static_cast<size_t>(v.integer("file_workers"));
  r.fileHub.pollInterval = millis(v.durationNs("file_poll_interval"));
  r.cgroupRoot = v.string("cgroup_root");
  return r;
}

}  // namespace zc::podman
