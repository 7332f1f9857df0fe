// bench/common: helpers the Docker-facing benchmarks share: the docker CLI, raw GETs on the
// engine socket (what a plain Engine API client does, the baselines), the collector's /healthz,
// and bounded parallel loops. Loopback and the local engine socket only.
#pragma once

#include <Poco/JSON/Object.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

namespace zc::bench {

// CLOCK_REALTIME in ns since the epoch: the clock of the engine's log timestamps.
int64_t realtimeNs();

// Runs `docker <args>`; the exit status. With `out`, stdout goes there (stderr dropped).
int docker(const std::string& args, std::string* out = nullptr);

// A short random tag for container names, so that runs never collide.
std::string uniqueTag();

// GET `target` (path + query) from the Docker engine over its unix socket as a plain HTTP/1.0
// client: reads until the engine closes. Returns the bytes read (headers included), 0 when the
// socket cannot be reached. With `body`, keeps everything read (headers included).
uint64_t engineGet(const std::string& target, std::string* body = nullptr);

// The collector's /healthz as JSON, or null when it does not answer 200 with an object.
Poco::JSON::Object::Ptr healthz(uint16_t port);

// Runs fn(i) for i in [0, n) on at most `parallelism` threads; returns when all are done.
void parallelFor(size_t n, size_t parallelism, const std::function<void(size_t)>& fn);

// Raises this process's soft open-file limit to at least `needed` (children inherit it); false,
// with a message on stderr, when the hard limit does not allow it.
bool raiseFileLimit(size_t needed);

// The Docker engine's pid (from /var/run/docker.pid, else /tmp/zc-dockerd.pid), or 0.
pid_t dockerdPid();

}  // namespace zc::bench
