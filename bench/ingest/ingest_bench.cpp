// bench/ingest: how fast the collector stores a container's log, next to the honest ceiling: a
// raw read of the same Engine API response written to /dev/null, in the same run.
//
//   bench_ingest [--lines N] [--containers K] [--runs R] [--smoke] [--report FILE]
//
// For each scenario (1 container with N lines; K containers with N/K lines each, all at once) the
// containers write their lines (100 bytes each, as fast as they can) and exit; then, R times
// (default 3), alternating:
//   - raw read: one `curl --unix-socket ... --parallel -o /dev/null ...` process reading every
//     container's GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1 at once (the
//     collector's own query, without follow); time from starting it until it exited;
//   - paced raw read: the same responses read by this process over one connection each, paced
//     as the collector reads them (after a pass that read anything, a 200 us pause before it
//     polls again, so the engine's one write per line gathers into fewer, larger reads; bytes
//     dropped); time from connecting until every response ended. curl reads each write as it
//     comes, which costs the engine more. The goals are judged against the faster of the two
//     (their medians), the ceiling;
//   - collector: a fresh zynd-collector (RocksDB in a new temp dir) is spawned; time from spawn
//     until its /healthz reports every line committed (pipeline.linesIngested >= N: each batch
//     acknowledged by storage, so every line can be served).
// Reports the medians in lines/s and the ratio to each raw read (bench/common/report.h); the
// note carries the figure from the moment the collector was connected (discovery done), its peak
// RSS and thread count, every run's figures and the load average before and after. The
// collector and curl pay for starting a process, the paced read does not. These two scenarios
// read through the Engine API (log_source=api).
//
// The json-file scenario (1 container with N lines): the collector with log_source=file next to
// the same raw API reads and to `cat` of the container's json-file to /dev/null, R alternating
// runs of the four; rows: collector vs each raw API read, collector vs cat.
// Every container carries a label of this run and the collectors select it (--select-label), so
// other containers on the engine are not read.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "report.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::bench::docker;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

struct Health {
  bool connected = false;
  uint64_t lines = 0;
};

Health health(uint16_t port) {
  Health h;
  auto obj = zc::bench::healthz(port);
  if (!obj) return h;
  try {
    h.connected = obj->getObject("runtime")->getValue<bool>("connected");
    h.lines = obj->getObject("pipeline")->getValue<uint64_t>("linesIngested");
  } catch (const std::exception&) {
  }
  return h;
}

// One decimal: the RSS goals sit close to whole MiB.
std::string mib(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The engine's CPU seconds so far (0 when its pid is unknown): what serving the logs costs it,
// on the cores the reader shares with it.
double engineCpu() {
  static const pid_t pid = zc::bench::dockerdPid();
  return pid > 0 ? zc::bench::cpuSeconds(pid) : 0;
}

// The raw read of every container's log at once by one `curl` process (parallel transfers, as
// the collector reads them from one process); seconds until it exited, or -1. `engineSeconds`:
// the engine's CPU time meanwhile.
double rawRead(const std::vector<std::string>& ids, double* engineSeconds) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sf", "--unix-socket",
                                   zc::testing::dockerSocketPath(), "--parallel",
                                   "--parallel-max", std::to_string(ids.size())};
  for (const auto& id : ids) {
    argv.insert(argv.end(), {"-o", "/dev/null",
                             "http://docker/containers/" + id +
                                 "/logs?stdout=1&stderr=1&timestamps=1"});
  }
  const double cpu0 = engineCpu();
  auto t0 = Clock::now();
  zc::testing::ChildProcess curl(argv);
  bool ok = curl.wait(std::chrono::milliseconds(300'000)) == 0;
  *engineSeconds = engineCpu() - cpu0;
  return ok ? seconds(Clock::now() - t0) : -1;
}

// The paced raw read (see the top of this file); seconds until every response ended, or -1 (a
// connection refused, an answer other than 200, or 300 s gone). `engineSeconds`: the engine's CPU
// time meanwhile.
double pacedRead(const std::vector<std::string>& ids, double* engineSeconds) {
  const double cpu0 = engineCpu();
  auto t0 = Clock::now();
  std::vector<pollfd> conns;
  auto closeAll = [&] {
    for (auto& c : conns) {
      if (c.fd >= 0) ::close(c.fd);
    }
  };
  const std::string path = zc::testing::dockerSocketPath();
  for (const auto& id : ids) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const std::string request = "GET /containers/" + id +
                                "/logs?stdout=1&stderr=1&timestamps=1 HTTP/1.1\r\n"
                                "Host: docker\r\nConnection: close\r\n\r\n";
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) {
      if (fd >= 0) ::close(fd);
      closeAll();
      return -1;
    }
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
    conns.push_back({fd, POLLIN, 0});
  }
  std::vector<char> buf(1 << 20);
  // Per response: its first bytes until the status line is whole, and its last five bytes (a
  // whole chunked response ends with the empty chunk "0\r\n\r\n").
  std::vector<std::string> head(conns.size()), tail(conns.size());
  std::vector<bool> statusChecked(conns.size(), false);
  size_t open = conns.size();
  bool ok = true;
  while (open > 0 && ok && Clock::now() < t0 + 300s) {
    if (::poll(conns.data(), conns.size(), 1000) < 0 && errno != EINTR) break;
    bool read = false;
    for (size_t i = 0; i < conns.size() && ok; ++i) {
      pollfd& c = conns[i];
      if (c.fd < 0 || c.revents == 0) continue;
      ssize_t r = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (r > 0) {
        read = true;
        std::string_view got(buf.data(), static_cast<size_t>(r));
        if (!statusChecked[i]) {
          head[i].append(got.substr(0, 64));
          if (head[i].find("\r\n") != std::string::npos || head[i].size() >= 64) {
            statusChecked[i] = true;
            if (head[i].rfind("HTTP/1.1 200", 0) != 0) ok = false;
          }
        }
        tail[i].append(got.substr(got.size() > 5 ? got.size() - 5 : 0));
        if (tail[i].size() > 5) tail[i].erase(0, tail[i].size() - 5);
      } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      } else {  // the end: whole only after the status 200 and the last chunk
        if (r < 0 || !statusChecked[i] || tail[i] != "0\r\n\r\n") ok = false;
        ::close(c.fd);
        c.fd = -1;
        --open;
      }
    }
    if (read) std::this_thread::sleep_for(200us);  // the collector's FollowLoop::kReadAheadPause
  }
  *engineSeconds = engineCpu() - cpu0;
  closeAll();
  return open == 0 && ok ? seconds(Clock::now() - t0) : -1;
}

struct CollectorRun {
  bool ok = false;
  double fromSpawn = 0;      // seconds
  double fromConnected = 0;  // seconds
  double rssMb = 0;          // VmHWM, MiB
  long threads = 0;
  double cpuSeconds = 0;  // the collector's user + system time until the last line was stored
  double engineSeconds = 0;  // the engine's CPU time over the same span
};

// `cat` of the files to /dev/null; seconds until it exited, or -1.
double catRead(const std::vector<std::string>& paths) {
  std::string cmd = "cat";
  for (const auto& p : paths) cmd += " '" + p + "'";
  auto t0 = Clock::now();
  zc::testing::ChildProcess cat({"/bin/sh", "-c", cmd + " > /dev/null"});
  bool ok = cat.wait(std::chrono::milliseconds(300'000)) == 0;
  return ok ? seconds(Clock::now() - t0) : -1;
}

// A fresh collector until it has committed `total` lines.
CollectorRun collectorRead(uint64_t total, const std::string& source, const std::string& label) {
  CollectorRun r;
  zc::testing::TempDir dir;
  uint16_t port = zc::testing::freePort();
  const double engine0 = engineCpu();
  auto spawn = Clock::now();
  zc::testing::ChildProcess proc(zc::testing::collectorArgv(
      {"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:" + std::to_string(port),
       "--router", "none", "--keep-crashed", "true", "--log-level", "warn", "--select-label",
       label, "--plugin-opt", "runtime.docker.log_source=" + source}));
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
    // Every 10 ms: a poll costs the collector an HTTP request and this process a JSON parse, on
    // the cores the collector and the engine share; the last line is seen at most 10 ms late.
    std::this_thread::sleep_for(10ms);
  }
  if (done == Clock::time_point{}) {
    std::fprintf(stderr, "bench_ingest: collector did not store %lu lines in time\n%s\n",
                 static_cast<unsigned long>(total), proc.err().c_str());
  } else {
    r.ok = true;
    r.fromSpawn = seconds(done - spawn);
    r.fromConnected = seconds(done - connected);
    r.cpuSeconds = zc::bench::cpuSeconds(proc.pid());
    r.engineSeconds = engineCpu() - engine0;
  }
  zc::bench::ProcStatus ps = zc::bench::procStatus(proc.pid());
  r.rssMb = static_cast<double>(ps.hwmKb) / 1024;
  r.threads = ps.threads;
  proc.signal(SIGTERM);
  proc.wait(10s);
  return r;
}

struct Result {
  bool ok = false;
  double rawLps = 0;        // medians, lines/s
  double pacedLps = 0;
  double ceilingLps = 0;    // the faster of the two raw reads
  double collectorLps = 0;  // from spawn
  double connectedLps = 0;  // from connected
  double rssMb = 0;         // the largest of the runs
  long threads = 0;
  double cpuSeconds = 0;    // the collector's CPU time, median
  double engineRaw = 0;     // the engine's CPU time during the raw read (curl), median
  double enginePaced = 0;   // ... during the paced raw read, median
  double engineCollector = 0;  // ... during the collector's run, median
  std::string runs;         // every run's figures, for the note
  std::string failure;      // why not ok
  double catLps = 0;        // the json-file scenario: cat of the file
};

// `source`: the collector's log_source; "file" also times cat of the json-files.
Result runScenario(uint64_t totalLines, int containers, int runs, const std::string& source) {
  Result r;
  uint64_t perContainer = totalLines / containers;
  uint64_t total = perContainer * containers;
  std::string tag = zc::bench::uniqueTag();
  const std::string label = "zc.bench-ingest=" + tag;
  std::vector<std::string> names, ids, paths;
  // 99 characters + '\n' = 100 bytes per line.
  std::string payload(99, 'x');
  for (int i = 0; i < containers; ++i) {
    std::string name = "zynd-bench" + tag + "-" + std::to_string(i);
    std::string id;
    if (docker("run -d --name " + name + " --label zynd.test=1 --label " + label + " " +
                   zc::testing::testImage() +
                   " sh -c 'yes " + payload + " | head -n " + std::to_string(perContainer) + "'",
               &id) != 0) {
      std::fprintf(stderr, "bench_ingest: docker run failed\n");
      return r;
    }
    names.push_back(name);
    ids.push_back(id.substr(0, id.find('\n')));
  }
  for (const auto& n : names) docker("wait " + n);
  for (const auto& n : names) {
    std::string path;
    docker("inspect -f '{{.LogPath}}' " + n, &path);
    paths.push_back(path.substr(0, path.find('\n')));
  }

  std::vector<double> raw, paced, fromSpawn, fromConnected, cat, cpu, engineRaw, enginePaced,
      engineCollector;
  r.ok = true;
  for (int run = 0; run < runs && r.ok; ++run) {
    double engineSeconds = 0;
    double rawSeconds = rawRead(ids, &engineSeconds);
    double enginePacedSeconds = 0;
    double pacedSeconds = pacedRead(ids, &enginePacedSeconds);
    double catSeconds = source == "file" ? catRead(paths) : 1;
    CollectorRun c = collectorRead(total, source, label);
    if (rawSeconds <= 0 || pacedSeconds <= 0 || catSeconds <= 0 || !c.ok) {
      r.failure = rawSeconds <= 0     ? "the raw read (curl) failed"
                  : pacedSeconds <= 0 ? "the paced raw read failed"
                  : catSeconds <= 0   ? "cat of the json-file failed"
                                      : "the collector did not store every line in time";
      r.ok = false;
      break;
    }
    raw.push_back(total / rawSeconds);
    paced.push_back(total / pacedSeconds);
    enginePaced.push_back(enginePacedSeconds);
    if (source == "file") cat.push_back(total / catSeconds);
    fromSpawn.push_back(total / c.fromSpawn);
    fromConnected.push_back(total / c.fromConnected);
    cpu.push_back(c.cpuSeconds);
    engineRaw.push_back(engineSeconds);
    engineCollector.push_back(c.engineSeconds);
    r.rssMb = std::max(r.rssMb, c.rssMb);
    r.threads = std::max(r.threads, c.threads);
    char one[128];
    if (source == "file") {
      std::snprintf(one, sizeof one, "%s%.0f/%.0f/%.0f/%.0f", r.runs.empty() ? "" : ", ",
                    raw.back(), paced.back(), cat.back(), fromSpawn.back());
    } else {
      std::snprintf(one, sizeof one, "%s%.0f/%.0f/%.0f", r.runs.empty() ? "" : ", ", raw.back(),
                    paced.back(), fromSpawn.back());
    }
    r.runs += one;
  }
  r.rawLps = median(raw);
  r.pacedLps = median(paced);
  r.ceilingLps = std::max(r.rawLps, r.pacedLps);
  r.enginePaced = median(enginePaced);
  r.catLps = median(cat);
  r.collectorLps = median(fromSpawn);
  r.connectedLps = median(fromConnected);
  r.cpuSeconds = median(cpu);
  r.engineRaw = median(engineRaw);
  r.engineCollector = median(engineCollector);
  for (const auto& n : names) docker("rm -f " + n);
  return r;
}

// The note's CPU times (medians of the runs): the collector's, and the engine's on each side.
std::string cpuNote(const Result& r) {
  char b[200];
  std::snprintf(b, sizeof b,
                "CPU: collector %.2f s, the engine during the raw reads (curl, paced) %.2f and "
                "%.2f s and during the collector's run %.2f s",
                r.cpuSeconds, r.engineRaw, r.enginePaced, r.engineCollector);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  zc::bench::Report report(argc, argv);
  uint64_t lines = report.smoke() ? 2000 : 200000;
  int many = report.smoke() ? 2 : 50;
  int runs = 3;
  // Which scenarios run: "one" (1 container, API), "many" (K containers, API), "file".
  std::string only = "one,many,file";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--lines" && i + 1 < argc)
      lines = std::stoull(argv[++i]);
    else if (a == "--containers" && i + 1 < argc)
      many = std::stoi(argv[++i]);
    else if (a == "--runs" && i + 1 < argc)
      runs = std::max(1, std::stoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: bench_ingest [--lines N] [--containers K] [--runs R] "
                   "[--only one,many,file] [--smoke] [--report FILE]\n");
      return 2;
    }
  }
  if (!zc::testing::dockerAvailable()) {
    std::fprintf(stderr, "bench_ingest: no Docker engine at %s\n",
                 zc::testing::dockerSocketPath().c_str());
    return 1;
  }
  std::printf("bench_ingest: %lu lines of 100 bytes; 1 container, then %d at once\n",
              static_cast<unsigned long>(lines), many);
  auto wanted = [&](const std::string& scenario) {
    return ("," + only + ",").find("," + scenario + ",") != std::string::npos;
  };
  for (int k : {1, many}) {
    if (!wanted(k == 1 ? "one" : "many")) continue;
    std::string loadBefore = loadAverage();
    Result r = runScenario(lines, k, runs, "api");
    char name[96];
    std::snprintf(name, sizeof name, "%s lines, %d container%s, from spawn",
                  zc::bench::withCommas(lines).c_str(), k, k == 1 ? "" : "s");
    if (!r.ok) {
      report.fail("ingest", name, r.failure.empty() ? "the containers did not start" : r.failure);
      continue;
    }
    std::string note = "median of " + std::to_string(runs) +
                       " alternating runs (curl/paced/collector: " +
                       r.runs + "); from connected " +
                       std::to_string(static_cast<long>(r.connectedLps)) + " lines/s; peak RSS " +
                       mib(r.rssMb) + " MiB, " + std::to_string(r.threads) +
                       " threads; " + cpuNote(r) + "; load " + loadBefore + " -> " +
                       loadAverage();
    report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps,
                "the faster raw API read (curl, or paced like the collector)", r.ceilingLps,
                zc::bench::Better::kHigher, note + "; goal ratio >= 0.9"});
    report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps,
                "raw API read (curl to /dev/null)", r.rawLps, zc::bench::Better::kHigher, note});
  }
  if (wanted("file")) {
    std::string loadBefore = loadAverage();
    Result r = runScenario(lines, 1, runs, "file");
    std::string name = "json-file, " + zc::bench::withCommas(lines) + " lines, 1 container, from spawn";
    if (!r.ok) {
      report.fail("ingest", name, r.failure.empty() ? "the container did not start" : r.failure);
    } else {
      std::string note = "log_source=file; median of " + std::to_string(runs) +
                         " alternating runs (curl/paced/cat/collector: " + r.runs +
                         "); from connected " +
                         std::to_string(static_cast<long>(r.connectedLps)) +
                         " lines/s; peak RSS " + mib(r.rssMb) + " MiB (goal <= 32), " +
                         std::to_string(r.threads) + " threads; " + cpuNote(r) + "; load " +
                         loadBefore + " -> " + loadAverage();
      report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps,
                  "the faster raw API read of the same log (curl, or paced)", r.ceilingLps,
                  zc::bench::Better::kHigher, note + "; goal ratio >= 1.6"});
      report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps,
                  "raw API read of the same log (curl to /dev/null)", r.rawLps,
                  zc::bench::Better::kHigher, note});
      report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps,
                  "cat of the same json-file to /dev/null", r.catLps, zc::bench::Better::kHigher,
                  note});
    }
  }
  return report.failures() == 0 ? 0 : 1;
}
