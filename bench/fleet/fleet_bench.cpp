// bench/fleet: the collector as the number of containers it follows grows, next to the Docker
// engine measured at the same moments, in one run.
//
//   bench_fleet [--containers N] [--burst-rate R] [--burst-seconds S] [--only burst]
//               [--log-source auto|api|file|api,file] [--runs K] [--smoke] [--report FILE]
//
// One fresh zynd-collector (RocksDB in a temporary folder, --metrics-interval 10s) is started;
// --smoke: 2 and 4 idle containers, --metrics-interval 2s, one sweep round, 4 burst containers
// writing 2,000 lines/s for 1 s.
// then, with N = 200 by default:
//   1. resources at 0, N/2 and N followed containers: the collector's resident memory (VmRSS)
//      and thread count once every follow is up and a few seconds have passed, next to dockerd's
//      at the same moment. The containers are idle agents: one line every 10 s.
//   2. stats sweep at N containers: the duration of the collector's own metrics pass (/healthz
//      metricsSampler.lastSweepMs: one one-shot stats request per running deployment, 64 at a
//      time, parsed, CPU % computed, all samples stored in one write), next to (a) a plain client
//      that sends the same N requests 64 at a time over the engine socket and discards the
//      answers, and (b) `docker stats --no-stream` over the same containers. Alternated, median
//      of 3 rounds each. (The engine answers a one-shot request after its next 1 s stats tick.)
//   3. burst: 10 more containers write R = 50,000 lines/s together for S = 10 s (100-byte lines,
//      R/10 per container each second, each second's share started by a file the bench makes in
//      a bind-mounted folder at the start of that second, so a slow tick does not delay the
//      next) while the N idle ones keep running. Peak VmRSS and threads sampled every 100 ms
//      from the start until the collector has stored the last line, next to dockerd's peak; and
//      the collector's storing rate next to the rate the containers wrote at: "written" is the
//      engine timestamp of each container's closing line (printed right after its last tick),
//      "stored" the moment the bench saw every closing line stored (polled every 20 ms with a
//      one-row query at its expected lineNo, so polling costs the collector almost nothing);
//      both from the moment the first tick's file was made. Stored can only come after written:
//      the ratio is at most 1.0, which means it kept up. A closing line at another lineNo than
//      count + 1 (a lost or repeated line) fails the scenario.
// --only burst: only step 3 (the N idle containers are still started and followed first).
// --log-source: runtime.docker.log_source of the collector (default: the collector's default);
// a list alternates the sources, and with --runs K each source's burst is run K times (a fresh
// collector and fresh burst containers each time, the idle fleet kept), A/B/A/B...
// ZC_BENCH_BURST_HOOK (profiling): a command run in the background with the collector's pid as
// its argument right before each burst starts (e.g. a perf record script).
// Containers are named zynd-fleet<tag>-*, labelled zynd.test=1 and removed at the end.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "report.h"
#include "test_support.h"
#include "zc/model.h"

namespace {

using namespace std::chrono_literals;
using zc::bench::Better;
using zc::bench::docker;
using zc::bench::Report;
using Clock = std::chrono::steady_clock;

// Stops a loop thread (clears its flag) and joins it, at now() or when the scope ends.
class StopAndJoin {
 public:
  StopAndJoin(std::atomic<bool>& running, std::thread& thread) : running_(running), thread_(thread) {}
  StopAndJoin(const StopAndJoin&) = delete;
  StopAndJoin& operator=(const StopAndJoin&) = delete;
  ~StopAndJoin() { now(); }
  void now() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool>& running_;
  std::thread& thread_;
};

constexpr size_t kDockerParallelism = 4;  // concurrent `docker run` / `docker rm`
constexpr size_t kStatsParallelism = 64;  // the former default, kept: figures compare over time

double mib(long kb) {
  return static_cast<double>(kb) / 1024.0;
}

struct Options {
  int containers = 200;
  int burstRate = 50000;
  int burstSeconds = 10;
  int burstContainers = 10;
  int sweepRounds = 3;
  std::chrono::seconds metricsInterval{10};  // the collector's --metrics-interval
  bool burstOnly = false;
  int runs = 1;
  std::vector<std::string> logSources{""};  // "" = the collector's default
};

// The containers of this run, by name; removes every one of them on destruction.
class Fleet {
 public:
  explicit Fleet(std::string tag) : prefix_("zynd-fleet" + tag + "-") {}
  ~Fleet() {
    zc::bench::parallelFor(names_.size(), kDockerParallelism,
                           [&](size_t i) { docker("rm -f " + names_[i]); });
  }

  // Starts containers [names_.size(), count) running `script`; false when one did not start.
  bool grow(size_t count, const std::string& kind, const std::string& script,
            const std::string& extra = "") {
    size_t first = names_.size();
    if (count <= first) return true;
    std::vector<std::string> names(count - first), ids(count - first);
    std::atomic<bool> ok{true};
    zc::bench::parallelFor(names.size(), kDockerParallelism, [&](size_t i) {
      names[i] = prefix_ + kind + std::to_string(first + i);
      std::string out;
      if (docker("run -d --name " + names[i] + " --label zynd.test=1 " + extra + " " +
                     zc::testing::testImage() + " sh -c '" + script + "'",
                 &out) != 0) {
        ok = false;
      }
      ids[i] = out.substr(0, out.find('\n'));
    });
    names_.insert(names_.end(), names.begin(), names.end());
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    return ok;
  }

  // Removes containers [first, size()).
  void shrink(size_t first) {
    if (first >= names_.size()) return;
    zc::bench::parallelFor(names_.size() - first, kDockerParallelism,
                           [&](size_t i) { docker("rm -f " + names_[first + i]); });
    names_.resize(first);
    ids_.resize(first);
  }

  const std::vector<std::string>& names() const { return names_; }
  const std::vector<std::string>& ids() const { return ids_; }
  // The deployment id the collector gives container `name` (its name without "zynd-").
  static std::string deploymentId(const std::string& name) { return name.substr(5); }

 private:
  std::string prefix_;
  std::vector<std::string> names_, ids_;
};

class FleetBench {
 public:
  FleetBench(Report& report, Options opt)
      : report_(report), opt_(opt), fleet_(zc::bench::uniqueTag()) {}

  int run() {
    if (opt_.burstOnly) return runBursts();
    if (!startCollector(opt_.logSources.front())) return 1;
    const int half = opt_.containers / 2;
    for (int n : {0, half, opt_.containers}) {
      if (!followContainers(n)) return 1;
      recordResources(zc::bench::withCommas(n) + " followed containers", currentResources());
    }
    measureSweep();
    measureBurst(opt_.logSources.front(), "");
    stopCollector();
    return 0;
  }

  // --only burst: rounds of one burst per log source, a fresh collector for each.
  int runBursts() {
    for (int round = 1; round <= opt_.runs; ++round) {
      for (const auto& source : opt_.logSources) {
        if (!startCollector(source)) return 1;
        if (!followContainers(opt_.containers)) return 1;
        measureBurst(source, opt_.runs > 1 ? ", run " + std::to_string(round) : "");
        stopCollector();
      }
    }
    return 0;
  }

  void stopCollector() {
    proc_->signal(SIGTERM);
    proc_->wait(15s);
    proc_.reset();
  }

 private:
  struct Resources {
    zc::bench::ProcStatus collector, engine;
  };

  bool startCollector(const std::string& logSource) {
    engine_ = zc::bench::dockerdPid();
    if (engine_ == 0) {
      report_.fail("resources", "fleet", "cannot find dockerd's pid (/var/run/docker.pid)");
      return false;
    }
    port_ = zc::testing::freePort();
    std::vector<std::string> args = {
        "--data-dir", dir_.path() + "/data" + std::to_string(++collectors_), "--listen",
        "127.0.0.1:" + std::to_string(port_), "--router", "none", "--keep-crashed", "true",
        "--log-level", "warn", "--metrics-interval",
        std::to_string(opt_.metricsInterval.count()) + "s", "--metrics-parallelism",
        std::to_string(kStatsParallelism)};
    if (!logSource.empty()) {
      args.push_back("--plugin-opt");
      args.push_back("runtime.docker.log_source=" + logSource);
    }
    proc_ = std::make_unique<zc::testing::ChildProcess>(zc::testing::collectorArgv(args));
    bool up = zc::testing::waitFor(
        [&] {
          auto h = zc::bench::healthz(port_);
          return h && h->getObject("runtime")->getValue<bool>("connected");
        },
        30s, 50ms);
    if (!up) report_.fail("resources", "fleet", "the collector did not connect: " + proc_->err());
    return up;
  }

  // Grows the fleet of idle agents to n and waits until the collector follows every one.
  bool followContainers(int n) {
    if (!fleet_.grow(static_cast<size_t>(n), "idle",
                     "while :; do echo \"agent heartbeat, all is well\"; sleep 10; done")) {
      report_.fail("resources", std::to_string(n) + " followed containers", "docker run failed");
      return false;
    }
    bool all =
        zc::testing::waitFor([&] { return follows() >= static_cast<uint64_t>(n); }, 180s, 200ms);
    if (!all) {
      report_.fail("resources", std::to_string(n) + " followed containers",
                   "the collector follows only " + std::to_string(follows()));
      return false;
    }
    std::this_thread::sleep_for(report_.smoke() ? 1s : 5s);
    return true;
  }

  uint64_t follows() {
    auto h = zc::bench::healthz(port_);
    return h ? h->getObject("runtime")->getValue<uint64_t>("follows") : 0;
  }

  Resources currentResources() {
    return {zc::bench::procStatus(proc_->pid()), zc::bench::procStatus(engine_)};
  }

  void recordResources(const std::string& scenario, const Resources& r, bool peak = false) {
    const char* how = peak ? "peak " : "";
    report_.add({"resources", scenario, std::string(how) + "RSS", "MiB",
                 mib(peak ? r.collector.hwmKb : r.collector.rssKb), "dockerd, same moment",
                 mib(peak ? r.engine.hwmKb : r.engine.rssKb), Better::kLower, ""});
    report_.add({"resources", scenario, std::string(how) + "threads", "threads",
                 static_cast<double>(r.collector.threads), "dockerd, same moment",
                 static_cast<double>(r.engine.threads), Better::kLower, ""});
  }

  struct Sweep {
    uint64_t count = 0;
    uint64_t targets = 0;
    double ms = 0;
  };

  Sweep lastSweep() {
    Sweep s;
    auto h = zc::bench::healthz(port_);
    if (!h || !h->has("metricsSampler")) return s;
    auto m = h->getObject("metricsSampler");
    s.count = m->getValue<uint64_t>("sweeps");
    s.targets = m->getValue<uint64_t>("lastSweepTargets");
    s.ms = m->getValue<double>("lastSweepMs");
    return s;
  }

  // Collector passes and the baselines' alternate; the median of each.
  void measureSweep() {
    const std::string scenario =
        "stats sweep, " + zc::bench::withCommas(opt_.containers) + " containers";
    std::vector<double> collector, plain, cli;
    uint64_t seen = lastSweep().count;
    const int rounds = report_.smoke() ? 1 : opt_.sweepRounds;
    const auto& ids = fleet_.ids();
    std::string names;
    for (const auto& n : fleet_.names()) names += " " + n;
    auto msSince = [](Clock::time_point t0) {
      return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    };
    for (int round = 0; round < rounds; ++round) {
      Sweep s;
      // A pass that started after the fleet was complete: wait for the next one to end.
      // The interval runs from the end of one pass to the start of the next.
      bool got = zc::testing::waitFor(
          [&] {
            s = lastSweep();
            return s.count > seen + (round == 0 ? 1 : 0);
          },
          opt_.metricsInterval * 8, 100ms);
      if (!got || s.targets < static_cast<uint64_t>(opt_.containers)) {
        report_.fail(
            "sweep", scenario,
            got ? "the last metrics pass covered only " + std::to_string(s.targets) + " containers"
                : "no metrics pass ended within " + std::to_string((opt_.metricsInterval * 8).count()) +
                      " s");
        return;
      }
      seen = s.count;
      collector.push_back(s.ms);
      auto t0 = Clock::now();
      zc::bench::parallelFor(ids.size(), kStatsParallelism, [&](size_t i) {
        zc::bench::engineGet("/containers/" + ids[i] + "/stats?stream=false&one-shot=true");
      });
      plain.push_back(msSince(t0));
      t0 = Clock::now();
      docker("stats --no-stream" + names);
      cli.push_back(msSince(t0));
    }
    const std::string note = "median of " + std::to_string(rounds) + " passes each";
    const double value = zc::bench::quantile(collector, 0.5);
    report_.add({"sweep", scenario, "duration", "ms", value,
                 "plain client, same requests, " + std::to_string(kStatsParallelism) + " at a time",
                 zc::bench::quantile(plain, 0.5), Better::kLower, note});
    report_.add({"sweep", scenario, "duration", "ms", value, "docker stats --no-stream",
                 zc::bench::quantile(cli, 0.5), Better::kLower, note});
  }

  void measureBurst(const std::string& logSource, const std::string& runTag) {
    // One tick a second per container: `yes | head` writes its share when the bench makes the
    // tick's file in the gate folder (at go + k s, so a tick that takes a while to write does not
    // push the next ones back); a tick costs three busybox processes, a few ms each (finer ticks
    // spent the cores on process starts).
    const int perTick =
        std::max(1, opt_.burstRate / opt_.burstContainers);  // lines per container-second
    const int ticks = opt_.burstSeconds;
    const uint64_t total = static_cast<uint64_t>(perTick) * ticks * opt_.burstContainers;
    const std::string scenario = zc::bench::withCommas(static_cast<uint64_t>(opt_.burstRate)) +
                                 " lines/s burst over " + zc::bench::withCommas(opt_.containers) +
                                 " followed" +
                                 (logSource.empty() ? "" : ", log_source=" + logSource) + runTag;
    zc::testing::TempDir gate;
    ::chmod(gate.path().c_str(), 0755);
    const std::string payload(99, 'x');
    const std::string script =
        "i=0; while [ $i -lt " + std::to_string(ticks) +
        " ]; do while [ ! -e /gate/$i ]; do usleep 5000; done; yes " + payload + " | head -n " +
        std::to_string(perTick) + "; i=$((i+1)); done; echo burst-done; sleep 3600";
    const uint64_t perContainer = static_cast<uint64_t>(perTick) * ticks;
    size_t first = fleet_.names().size();
    if (!fleet_.grow(first + opt_.burstContainers, "burst", script,
                     "-v " + gate.path() + ":/gate:ro") ||
        !zc::testing::waitFor([&] { return follows() >= first + opt_.burstContainers; }, 60s,
                              100ms)) {
      report_.fail("burst", scenario, "the burst containers did not start or were not followed");
      return;
    }
    std::vector<std::string> deployments;
    for (size_t i = first; i < fleet_.names().size(); ++i)
      deployments.push_back(Fleet::deploymentId(fleet_.names()[i]));

    // Peak resources from the start of the burst until the last line is stored.
    Resources peak = currentResources();
    peak.collector.hwmKb = peak.collector.rssKb;
    peak.engine.hwmKb = peak.engine.rssKb;
    std::atomic<bool> sampling{true};
    std::thread sampler([&] {
      while (sampling) {
        Resources r = currentResources();
        peak.collector.hwmKb = std::max(peak.collector.hwmKb, r.collector.rssKb);
        peak.collector.threads = std::max(peak.collector.threads, r.collector.threads);
        peak.engine.hwmKb = std::max(peak.engine.hwmKb, r.engine.rssKb);
        peak.engine.threads = std::max(peak.engine.threads, r.engine.threads);
        std::this_thread::sleep_for(100ms);
      }
    });
    StopAndJoin stopSampler{sampling, sampler};  // joined on every path, a throw included
    const double cpuCollector0 = zc::bench::cpuSeconds(proc_->pid()),
                 cpuEngine0 = zc::bench::cpuSeconds(engine_);
    if (const char* hook = std::getenv("ZC_BENCH_BURST_HOOK"); hook && *hook) {
      // Profiling: run in the background with the collector's pid, then a moment for it to start.
      std::string cmd = std::string(hook) + " " + std::to_string(proc_->pid()) + " &";
      if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "bench_fleet: the hook failed\n");
      std::this_thread::sleep_for(500ms);
    }
    const int64_t go = zc::bench::realtimeNs();
    std::atomic<bool> ticking{true};
    std::thread ticker([&, start = Clock::now()] {
      for (int k = 0; k < ticks && ticking; ++k) {
        while (ticking && Clock::now() < start + std::chrono::seconds(k)) {
          std::this_thread::sleep_for(2ms);
        }
        std::ofstream(gate.path() + "/" + std::to_string(k)) << k << "\n";
      }
    });
    StopAndJoin stopTicker{ticking, ticker};
    // Stored when the collector has each container's closing line; every 20 ms, one one-row
    // query per container not yet done.
    std::vector<int64_t> closing(deployments.size(), 0);
    std::string misplaced;
    size_t done = 0;
    auto deadline = Clock::now() + std::chrono::seconds(opt_.burstSeconds * 10 + 60);
    while (done < deployments.size() && misplaced.empty() && Clock::now() < deadline) {
      for (size_t i = 0; i < deployments.size() && misplaced.empty(); ++i) {
        if (closing[i] != 0) continue;
        closing[i] = closingLineTs(deployments[i], perContainer, &misplaced);
        if (closing[i] != 0) ++done;
      }
      if (done < deployments.size()) std::this_thread::sleep_for(20ms);
    }
    const int64_t stored = zc::bench::realtimeNs();
    stopTicker.now();
    const double cpuCollector = zc::bench::cpuSeconds(proc_->pid()) - cpuCollector0;
    const double cpuEngine = zc::bench::cpuSeconds(engine_) - cpuEngine0;
    stopSampler.now();
    fleet_.shrink(first);
    if (!misplaced.empty()) {
      report_.fail("burst", scenario, misplaced);
      return;
    }
    if (done < deployments.size()) {
      report_.fail("burst", scenario, "the collector did not store the burst in time");
      return;
    }
    // The engine's timestamp of the last closing line written.
    const int64_t written = *std::max_element(closing.begin(), closing.end());
    recordResources(scenario, peak, /*peak=*/true);
    const double writtenRate =
        static_cast<double>(total) / (static_cast<double>(written - go) / 1e9);
    const double storedRate = static_cast<double>(total) / (static_cast<double>(stored - go) / 1e9);
    const double seconds = static_cast<double>(stored - go) / 1e9;
    char cpu[160];
    std::snprintf(cpu, sizeof cpu, "; CPU until stored: collector %.2f cores, dockerd %.2f cores",
                  cpuCollector / seconds, cpuEngine / seconds);
    report_.add({"burst", scenario, "stored lines/s", "lines/s", storedRate,
                 "rate the containers wrote at", writtenRate, Better::kHigher,
                 zc::bench::withCommas(total) + " lines of 100 bytes from " +
                     std::to_string(opt_.burstContainers) + " containers; 1.0 = kept up" + cpu});
  }

  // The engine timestamp (ns) of deployment d's closing "burst-done" line once stored, else 0.
  // It must be line count + 1 (lineNos start at 1): anywhere else, *misplaced says so.
  int64_t closingLineTs(const std::string& d, uint64_t count, std::string* misplaced) {
    std::string body;
    const uint64_t since = count > 2 ? count - 2 : 0;
    if (zc::testing::httpGet(port_,
                             "/api/deployments/" + d + "/logs?since=" + std::to_string(since) +
                                 "&limit=8",
                             &body) != 200) {
      return 0;
    }
    size_t at = body.find("\"text\":\"burst-done\"");
    if (at == std::string::npos) {
      // Past the expected place without it: lines were repeated (or it was lost).
      if (body.find("\"lineNo\":" + std::to_string(count + 2)) != std::string::npos)
        *misplaced = d + ": the closing line is not line " + std::to_string(count + 1);
      return 0;
    }
    size_t line = body.rfind("\"lineNo\":", at);
    if (line == std::string::npos ||
        std::strtoull(body.c_str() + line + 9, nullptr, 10) != count + 1) {
      *misplaced = d + ": the closing line is not line " + std::to_string(count + 1);
      return 0;
    }
    size_t ts = body.rfind("\"ts\":\"", at);
    if (ts == std::string::npos) return 0;
    auto t = zc::parseRfc3339(body.substr(ts + 6, body.find('"', ts + 6) - ts - 6));
    return t.isOk() ? t.value() : 0;
  }

  Report& report_;
  const Options opt_;
  Fleet fleet_;
  zc::testing::TempDir dir_;
  uint16_t port_ = 0;
  pid_t engine_ = 0;
  std::unique_ptr<zc::testing::ChildProcess> proc_;
  int collectors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Report report(argc, argv);
  Options opt;
  if (report.smoke()) {
    opt.containers = 4;
    opt.burstRate = 2000;
    opt.burstSeconds = 1;
    opt.burstContainers = 4;
    opt.metricsInterval = std::chrono::seconds(2);  // the sweep waits for two passes
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::string text = argv[i + 1];
    int v = std::atoi(argv[i + 1]);
    if (a == "--only" && text == "burst") {
      opt.burstOnly = true;
    } else if (a == "--log-source") {
      opt.logSources.clear();
      std::stringstream list(text);
      for (std::string s; std::getline(list, s, ',');) {
        if (s != "auto" && s != "api" && s != "file") {
          std::fprintf(stderr, "bench_fleet: --log-source takes auto, api or file, got '%s'\n",
                       s.c_str());
          return 2;
        }
        opt.logSources.push_back(s);
      }
      if (opt.logSources.empty()) opt.logSources.push_back("");
    } else if (a == "--runs") {
      opt.runs = std::clamp(v, 1, 20);
    } else if (a == "--containers") {
      opt.containers = std::clamp(v, 2, 1000);
    } else if (a == "--burst-rate") {
      opt.burstRate = std::clamp(v, 100, 500000);
    } else if (a == "--burst-seconds") {
      opt.burstSeconds = std::clamp(v, 1, 120);
    } else {
      std::fprintf(stderr,
                   "usage: bench_fleet [--containers N] [--burst-rate R] [--burst-seconds S] "
                   "[--only burst] [--log-source auto|api|file[,...]] [--runs K] [--smoke] "
                   "[--report FILE]\n");
      return 2;
    }
  }
  if (!zc::testing::dockerAvailable()) {
    std::fprintf(stderr, "bench_fleet: no Docker engine at %s\n",
                 zc::testing::dockerSocketPath().c_str());
    return 1;
  }
  std::printf("bench_fleet: 0, %d, %d idle containers; stats sweep; %d lines/s burst for %d s\n",
              opt.containers / 2, opt.containers, opt.burstRate, opt.burstSeconds);
  int rc = FleetBench(report, opt).run();
  return rc == 0 && report.failures() == 0 ? 0 : 1;
}
