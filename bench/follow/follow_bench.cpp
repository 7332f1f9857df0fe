// zc_docker_follow_bench <container>: follows a (stopped) container's whole log from the start
// through the runtime plugin into a consumer that discards it, and prints lines/s. Compare with
//   time curl -s --unix-socket /var/run/docker.sock
//     'http://d/v1.41/containers/<c>/logs?stdout=1&stderr=1&timestamps=1' >/dev/null
//
// zc_docker_follow_bench --fleet N: starts N containers of the test image (5 lines each, then
// they sleep; one unique label), then runs the whole collector on them twice, side by side in
// the same run: with one thread per follow (follow_threads=0, the shape before the follow loop:
// the baseline) and with the follow loop (the default). For each, once every container is
// followed and after a settle, the collector's threads and VmRSS from /proc. Both runs get the
// same options (--select-label, --metrics-parallelism 4: fixed, so sampling does not blur the
// figure); prints a table with the ratio and the load average. Removes the containers.
// Not a ctest test: a measuring tool.
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "collector_process.h"
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

// VmRSS (KiB) and Threads of `pid`.
struct ProcFigures {
  long rssKiB = 0;
  int threads = 0;
};
ProcFigures procFigures(pid_t pid) {
  ProcFigures f;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) f.rssKiB = std::atol(line.c_str() + 6);
    if (line.rfind("Threads:", 0) == 0) f.threads = std::atoi(line.c_str() + 8);
  }
  return f;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

int healthzFollows(uint16_t port) {
  std::string body;
  if (testing::httpGet(port, "/healthz", &body) != 200) return -1;
  auto at = body.find("\"follows\":");
  return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + 10);
}

// One collector run on the fleet; nullopt when not every container got followed in time.
std::optional<ProcFigures> measure(const std::string& label, int n, const std::string& followThreads) {
  testing::TempDir dir;
  uint16_t port = testing::freePort();
  testing::ChildProcess proc(testing::collectorArgv(
      {"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:" + std::to_string(port),
       "--docker-socket", testing::dockerSocketPath(), "--select-label", label,
       "--metrics-parallelism", "4", "--plugin-opt", "runtime.docker.follow_threads=" + followThreads}));
  bool up = testing::waitFor([&] { return healthzFollows(port) == n; }, std::chrono::seconds(180),
                             std::chrono::milliseconds(200));
  if (!up) {
    std::cerr << "follow_threads=" << followThreads << ": " << healthzFollows(port) << " of " << n
              << " followed\n" << proc.err().substr(0, 2000);
    return std::nullopt;
  }
  std::this_thread::sleep_for(std::chrono::seconds(5));  // settle: every follow read its lines
  ProcFigures f = procFigures(proc.pid());
  proc.signal(SIGTERM);
  proc.wait(std::chrono::seconds(30));
  return f;
}

int fleet(int n) {
  std::mt19937_64 rng(std::random_device{}());
  std::string label = "zc.follow-bench=" + std::to_string(rng() % 1000000000);
  std::vector<std::string> names(n);
  for (int i = 0; i < n; ++i) names[i] = "zynd-fb" + std::to_string(rng() % 1000000000);
  std::printf("starting %d containers (label %s); load average %s\n", n, label.c_str(),
              loadAverage().c_str());
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 6; ++t) {
    ts.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        if (docker::testing::docker(
                "run -d --name " + names[i] + " --label zynd.test=1 --label " + label + " " +
                testing::testImage() +
                " sh -c 'i=0; while [ $i -lt 5 ]; do echo \"line $i\"; i=$((i+1)); done; "
                "exec sleep 3600'") != 0) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  int rc = 1;
  if (failed == 0) {
    std::string loadBefore = loadAverage();
    auto before = measure(label, n, "0");
    auto after = measure(label, n, "4");
    std::string loadAfter = loadAverage();
    if (before && after) {
      std::printf("\n%d followed containers, whole collector (VmRSS, Threads from /proc)\n", n);
      std::printf("| figure | follow loop (follow_threads=4) | one thread per follow (follow_threads=0) | ratio |\n");
      std::printf("|---|---:|---:|---:|\n");
      std::printf("| threads | %d | %d | %.2f |\n", after->threads, before->threads,
                  double(after->threads) / before->threads);
      std::printf("| RSS | %.1f MiB | %.1f MiB | %.2f |\n", after->rssKiB / 1024.0,
                  before->rssKiB / 1024.0, double(after->rssKiB) / before->rssKiB);
      std::printf("load average: %s at start, %s at the end\n", loadBefore.c_str(), loadAfter.c_str());
      rc = 0;
    }
  } else {
    std::cerr << failed.load() << " containers failed to start\n";
  }
  std::string ids;
  docker::testing::docker("ps -aq --filter label=" + label, &ids);
  for (char& c : ids) {
    if (c == '\n') c = ' ';
  }
  if (!ids.empty()) docker::testing::docker("rm -f " + ids);
  return rc;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--fleet") {
    int n = std::atoi(argv[2]);
    if (n < 1 || n > 1000) {
      std::cerr << "--fleet: 1..1000 containers\n";
      return 2;
    }
    return fleet(n);
  }
  if (argc < 2) {
    std::cerr << "usage: zc_docker_follow_bench <container> [option=value...] | --fleet N\n";
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
