// bench/ingest: how fast the collector stores a container's log, next to how fast a plain
// reader pulls the same log from the engine and discards it (the ceiling), in the same run.
//
//   bench_ingest [--lines N] [--containers K] [--smoke]
//
// For each scenario (1 container with N lines; K containers with N/K lines each, all at once):
//   1. the containers write their lines (100 bytes each, as fast as they can) and exit;
//   2. baseline: one reader per container GETs /containers/{id}/logs?stdout=1&stderr=1&
//      timestamps=1 over the engine socket (the collector's own query, without follow) and
//      discards it; time until every reader hit EOF;
//   3. collector: a fresh zynd-collector (RocksDB in a temp dir) is started; time until its
//      /healthz reports every line committed (pipeline.linesIngested >= N, each batch acknowledged
//      by storage). Reported from the moment it is connected (discovery done) and from spawn.
// Prints lines/s of both, the ratio, and the collector's peak RSS and thread count.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "collector_process.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::testing::runCommand;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int docker(const std::string& args, std::string* out = nullptr) {
  return runCommand("/usr/bin/docker " + args + (out ? " 2>/dev/null" : " >/dev/null 2>&1"), out);
}

// Reads a container's whole log over the engine socket, discarding it; returns bytes read.
uint64_t readLog(const std::string& containerId) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", zc::testing::dockerSocketPath().c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = "GET /containers/" + containerId +
                    "/logs?stdout=1&stderr=1&timestamps=1 HTTP/1.0\r\nHost: docker\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  static thread_local std::vector<char> buf(1 << 16);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return total;
}

struct ProcStats {
  long vmHwmKb = 0;
  long threads = 0;
};

ProcStats procStats(pid_t pid) {
  ProcStats s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") in >> s.vmHwmKb;
    else if (key == "Threads:") in >> s.threads;
    else in.ignore(1 << 10, '\n');
  }
  return s;
}

struct Health {
  bool connected = false;
  uint64_t lines = 0;
};

Health health(uint16_t port) {
  Health h;
  std::string body;
  if (zc::testing::httpGet(port, "/healthz", &body) != 200) return h;
  try {
    Poco::JSON::Parser p;
    auto obj = p.parse(body).extract<Poco::JSON::Object::Ptr>();
    h.connected = obj->getObject("runtime")->getValue<bool>("connected");
    h.lines = obj->getObject("pipeline")->getValue<uint64_t>("linesIngested");
  } catch (const std::exception&) {
  }
  return h;
}

struct Result {
  double baselineLps = 0;
  double collectorLps = 0;       // from connected
  double collectorLpsSpawn = 0;  // from spawn
  long rssMb = 0;
  long threads = 0;
  bool ok = false;
};

Result runScenario(uint64_t totalLines, int containers) {
  Result r;
  uint64_t perContainer = totalLines / containers;
  uint64_t total = perContainer * containers;
  static std::mt19937 rng(std::random_device{}());
  std::string tag = std::to_string(rng() % 1000000);
  std::vector<std::string> names, ids;
  // 99 characters + '\n' = 100 bytes per line.
  std::string payload(99, 'x');
  for (int i = 0; i < containers; ++i) {
    std::string name = "zynd-bench" + tag + "-" + std::to_string(i);
    std::string id;
    if (docker("run -d --name " + name + " --label zynd.test=1 " + zc::testing::testImage() +
                   " sh -c 'yes " + payload + " | head -n " + std::to_string(perContainer) + "'",
               &id) != 0) {
      std::fprintf(stderr, "bench_ingest: docker run failed\n");
      return r;
    }
    names.push_back(name);
    ids.push_back(id.substr(0, id.find('\n')));
  }
  for (const auto& n : names) docker("wait " + n);

  // Baseline: plain readers, one per container, all at once.
  auto t0 = Clock::now();
  std::vector<std::thread> readers;
  std::vector<uint64_t> bytes(containers);
  for (int i = 0; i < containers; ++i) readers.emplace_back([&, i] { bytes[i] = readLog(ids[i]); });
  for (auto& t : readers) t.join();
  double baseline = seconds(Clock::now() - t0);
  r.baselineLps = total / baseline;

  // The collector, fresh.
  zc::testing::TempDir dir;
  uint16_t port = zc::testing::freePort();
  auto spawn = Clock::now();
  zc::testing::ChildProcess proc(zc::testing::collectorArgv(
      {"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:" + std::to_string(port),
       "--router", "none", "--keep-crashed", "true", "--log-level", "warn"}));
  Clock::time_point connected{};
  Clock::time_point done{};
  auto deadline = spawn + 300s;
  while (Clock::now() < deadline) {
    Health h = health(port);
    if (h.connected && connected == Clock::time_point{}) connected = Clock::now();
    if (h.lines >= total) {
      done = Clock::now();
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  if (done == Clock::time_point{}) {
    std::fprintf(stderr, "bench_ingest: collector did not store %lu lines in time\n%s\n",
                 static_cast<unsigned long>(total), proc.err().c_str());
  } else {
    r.ok = true;
    r.collectorLps = total / seconds(done - connected);
    r.collectorLpsSpawn = total / seconds(done - spawn);
  }
  ProcStats ps = procStats(proc.pid());
  r.rssMb = ps.vmHwmKb / 1024;
  r.threads = ps.threads;
  proc.signal(SIGTERM);
  proc.wait(10s);
  for (const auto& n : names) docker("rm -f " + n);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t lines = 200000;
  int many = 50;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--lines" && i + 1 < argc) lines = std::stoull(argv[++i]);
    else if (a == "--containers" && i + 1 < argc) many = std::stoi(argv[++i]);
    else if (a == "--smoke") {
      lines = 2000;
      many = 2;
    } else {
      std::fprintf(stderr, "usage: bench_ingest [--lines N] [--containers K] [--smoke]\n");
      return 2;
    }
  }
  if (!zc::testing::dockerAvailable()) {
    std::fprintf(stderr, "bench_ingest: no Docker engine at %s\n", zc::testing::dockerSocketPath().c_str());
    return 1;
  }
  std::printf("%-28s %14s %14s %7s %14s %8s %8s\n", "scenario", "reader l/s", "collector l/s",
              "ratio", "(from spawn)", "RSS MiB", "threads");
  int failures = 0;
  for (int k : {1, many}) {
    Result r = runScenario(lines, k);
    char name[64];
    std::snprintf(name, sizeof name, "%lu lines, %d container%s", static_cast<unsigned long>(lines), k,
                  k == 1 ? "" : "s");
    if (!r.ok) {
      std::printf("%-28s %14.0f %14s\n", name, r.baselineLps, "FAILED");
      ++failures;
      continue;
    }
    std::printf("%-28s %14.0f %14.0f %7.2f %14.0f %8ld %8ld\n", name, r.baselineLps, r.collectorLps,
                r.collectorLps / r.baselineLps, r.collectorLpsSpawn, r.rssMb, r.threads);
  }
  return failures == 0 ? 0 : 1;
}
