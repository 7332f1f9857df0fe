// The options of the Podman runtime (README.md "Options"), parsed from --plugin-opt
// runtime.podman.KEY=VALUE.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "event_subscriber.h"
#include "log_follower.h"
#include "tail_hub.h"
#include "zc/plugin/options.h"
#include "zc/status.h"

namespace zc::podman {

// The libpod API this plugin was written against; every path is prefixed with it.
inline constexpr const char* kLibpodPrefix = "/v4.0.0/libpod";
inline constexpr const char* kDefaultSocket = "/run/podman/podman.sock";

struct PodmanOptions {
  std::string socketPath = kDefaultSocket;
  std::chrono::milliseconds requestTimeout{30000};
  docker::FollowOptions follow;        // the file follow's chunks, caps and restart grace
  docker::EventOptions events;         // libpod's event names, select_labels
  logfile::TailHub::Options fileHub;   // the file follows' threads
  std::string cgroupRoot = "/sys/fs/cgroup";  // where the containers' cgroups are read
};

std::vector<plugin::OptionSpec> podmanOptionSpecs();
// InvalidArgument "<key>: <why>" on an unknown key or a bad value.
Result<PodmanOptions> parsePodmanOptions(const std::map<std::string, std::string>& options);

}  // namespace zc::podman
