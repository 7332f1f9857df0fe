// zc_docker_follow_bench <container>: follows a (stopped) container's whole log from the start
// through the runtime plugin into a consumer that discards it, and prints lines/s. Compare with
//   time curl -s --unix-socket /var/run/docker.sock
//     'http://d/v1.41/containers/<c>/logs?stdout=1&stderr=1&timestamps=1' >/dev/null
// Not a ctest test: a measuring tool (needs a container prepared by hand, see README).
#include <chrono>
#include <cstdio>
#include <iostream>

#include "engine_test_support.h"

using namespace zc;

namespace {
class Discard : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& chunk) noexcept override {
    lines += chunk.lines.size();
    for (const auto& l : chunk.lines) bytes += l.text.size();
    ++chunks;
    lastLineAt = std::chrono::steady_clock::now();
    return true;
  }
  void ended(Status why) noexcept override {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    status = why;
    cv.notify_all();
  }
  size_t lines = 0, bytes = 0, chunks = 0;
  std::chrono::steady_clock::time_point lastLineAt;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: zc_docker_follow_bench <container> [option=value...]\n";
    return 2;
  }
  std::map<std::string, std::string> options;
  for (int i = 2; i < argc; ++i) {
    std::string kv = argv[i];
    size_t eq = kv.find('=');
    if (eq == std::string::npos) return 2;
    options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  auto rt = docker::testing::loadRuntime(options);
  if (!rt || !rt->connect().isOk()) return 1;
  auto info = rt->inspect(argv[1]);
  if (!info.isOk()) {
    std::cerr << info.status().toString() << "\n";
    return 1;
  }
  Discard d;
  auto t0 = std::chrono::steady_clock::now();
  auto sub = rt->followLogs(info.value(), "", &d);
  if (!sub.isOk()) return 1;
  {
    std::unique_lock<std::mutex> lock(d.mu);
    d.cv.wait_for(lock, std::chrono::minutes(5), [&] { return d.done; });
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double s = std::chrono::duration<double>(d.lastLineAt - t0).count();
  sub.value()->stop();
  // Up to the last line; the end (ended()) comes after restart_grace and a final read.
  std::printf("%zu lines, %zu bytes, %zu chunks; last line after %.3f s: %.0f lines/s; ended after "
              "%.3f s (%s)\n",
              d.lines, d.bytes, d.chunks, s, d.lines / s, total, d.status.toString().c_str());
  return 0;
}
