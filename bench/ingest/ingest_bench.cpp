// bench/ingest: how fast the collector stores a container's log, next to how fast a plain
// reader pulls the same log from the engine and discards it (the ceiling), in the same run.
//
//   bench_ingest [--lines N] [--containers K] [--smoke] [--report FILE]
//
// For each scenario (1 container with N lines; K containers with N/K lines each, all at once):
//   1. the containers write their lines (100 bytes each, as fast as they can) and exit;
//   2. baseline: one reader per container GETs /containers/{id}/logs?stdout=1&stderr=1&
//      timestamps=1 over the engine socket (the collector's own query, without follow) and
//      discards it; time until every reader hit EOF;
//   3. collector: a fresh zynd-collector (RocksDB in a temp dir) is started; time until its
//      /healthz reports every line committed (pipeline.linesIngested >= N, each batch acknowledged
//      by storage). Reported from the moment it is connected (discovery done) and from spawn.
// Reports lines/s of both and the ratio (bench/common/report.h), with the collector's peak RSS
// and thread count in the note.
#include <signal.h>

#include <chrono>
#include <cstdio>
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
  std::string tag = zc::bench::uniqueTag();
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
  for (int i = 0; i < containers; ++i)
    readers.emplace_back([&, i] {
      bytes[i] =
          zc::bench::engineGet("/containers/" + ids[i] + "/logs?stdout=1&stderr=1&timestamps=1");
    });
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
  zc::bench::ProcStatus ps = zc::bench::procStatus(proc.pid());
  r.rssMb = ps.hwmKb / 1024;
  r.threads = ps.threads;
  proc.signal(SIGTERM);
  proc.wait(10s);
  for (const auto& n : names) docker("rm -f " + n);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  zc::bench::Report report(argc, argv);
  uint64_t lines = report.smoke() ? 2000 : 200000;
  int many = report.smoke() ? 2 : 50;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--lines" && i + 1 < argc)
      lines = std::stoull(argv[++i]);
    else if (a == "--containers" && i + 1 < argc)
      many = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_ingest [--lines N] [--containers K] [--smoke] [--report FILE]\n");
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
  for (int k : {1, many}) {
    Result r = runScenario(lines, k);
    char name[96];
    std::snprintf(name, sizeof name, "%s lines, %d container%s",
                  zc::bench::withCommas(lines).c_str(), k, k == 1 ? "" : "s");
    if (!r.ok) {
      report.fail("ingest", name, "the collector did not store every line in time");
      continue;
    }
    char note[160];
    std::snprintf(note, sizeof note, "from spawn %.0f lines/s; peak RSS %ld MiB, %ld threads",
                  r.collectorLpsSpawn, r.rssMb, r.threads);
    report.add({"ingest", name, "lines/s", "lines/s", r.collectorLps, "plain engine reader",
                r.baselineLps, zc::bench::Better::kHigher, note});
  }
  return report.failures() == 0 ? 0 : 1;
}
