// bench/e2e: end-to-end latency of a log line, container -> SSE client, at pinned write rates and
// 1, 100 and 1,000 clients, next to the engine's own delivery latency of the same lines, in the
// same run.
//
//   bench_e2e [--clients 1,100,1000] [--rates 200,2000] [--seconds 10] [--sampled 10]
//             [--smoke] [--report FILE]
//
// For each client count N and rate R (a fresh zynd-collector each time, RocksDB in a temp dir, so
// that RSS, threads and CPU are those of N streams and nothing is left over):
//   1. a container zynd-e2e<tag>-<N>-<R> starts and copies a FIFO in its bind mount to its stdout
//      (`cat`); the bench waits until the collector lists its deployment as running;
//   2. N SSE clients GET /api/deployments/<id>/logs/stream (no since: what a page does), opened in
//      waves of 100 (a 503 is retried, as EventSource does), each ready at its first
//      `event: status`; they all run on the bench's main thread (one epoll loop) and are cheap:
//      the first --sampled of them parse every event, the others read and discard (sse_clients.h);
//   3. baseline: a plain follower GETs /containers/<id>/logs?follow=1&stdout=1&stderr=1&
//      timestamps=1&since=<now> over the engine socket (the collector's own query) in its own
//      thread and decodes the frames (engine_follower.h);
//   4. a writer thread of the bench writes R x seconds lines of ~80 bytes into the FIFO, one
//      write() per line at its pinned instant (t0 + i / R; a writer that falls behind catches up
//      at once), so the rate is the same whatever the machine does; `cat` passes each line on.
// Latency of a line = CLOCK_REALTIME when the bytes holding it were read by a sampled client -
// the line's engine timestamp (`ts` of the SSE event, the timestamp prefix for the follower):
// both are the instant the engine read the line from the container, on the same host clock.
// Every client must receive the last line, and every sampled client every line exactly once, in
// order (lineNo contiguous, "line <i>" in sequence), and the follower too; the writer has the
// duration plus 60 s, the clients 30 s more after the last line reached the follower; otherwise
// the scenario is FAILED.
// Reports p50 and p99 of both with the ratio, and the slowest client's delivery rate (lines / time
// from the first write to its last line) against the write rate. Prints, for information: max; the
// latency at the kernel's receive timestamp of the sampled sockets (SO_TIMESTAMPNS); per line, the
// latency to the first sampled client and the spread first -> last; the collector's RSS, threads
// and CPU next to the clients' (the bench process) CPU.
// Loopback only; client counts are capped at 5,000, lines per scenario at 50,000, every wait has a
// deadline.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "e2e_common.h"
#include "engine_follower.h"
#include "report.h"
#include "sse_clients.h"
#include "test_support.h"
#include "zc/model.h"

namespace {

using namespace std::chrono_literals;
using zc::bench::e2e::Clock;
using zc::bench::e2e::EngineFollower;
using zc::bench::e2e::SseFleet;
using zc::bench::e2e::seconds;
using zc::bench::Better;
using zc::bench::Figure;
using zc::bench::Report;

constexpr size_t kMaxClients = 5000;   // bound of --clients
constexpr uint64_t kMaxLines = 50000;  // bound of rate x seconds
constexpr auto kWriteSlack = 60s;      // beyond its duration, for the writer to write its lines
constexpr auto kDrainGrace = 30s;      // then for every client to receive them
constexpr int kPadBytes = 70;         // "line 1234 " + 70 bytes: about 80 bytes per line
constexpr const char* kSection = "latency";
constexpr const char* kBaseline = "plain engine follower (same container, same run)";

// ---------------------------------------------------------------------------------------------
// Time

// ---------------------------------------------------------------------------------------------
// Processes

// Context switches (voluntary + involuntary) of every thread of a process.
uint64_t contextSwitches(pid_t pid) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "status");
    std::string key;
    while (in >> key) {
      uint64_t v = 0;
      if (key == "voluntary_ctxt_switches:" || key == "nonvoluntary_ctxt_switches:") {
        in >> v;
        total += v;
      } else {
        in.ignore(1 << 12, '\n');
      }
    }
  }
  return total;
}

// The sum of a Prometheus metric's samples (every label set) in a text exposition.
double metricSum(const std::string& text, const std::string& name) {
  double sum = 0;
  size_t pos = 0;
  while ((pos = text.find(name, pos)) != std::string::npos) {
    bool lineStart = pos == 0 || text[pos - 1] == '\n';
    size_t after = pos + name.size();
    pos = after;
    if (!lineStart || after >= text.size() || (text[after] != ' ' && text[after] != '{')) continue;
    size_t eol = text.find('\n', after);
    size_t sp = text.rfind(' ', eol == std::string::npos ? text.size() : eol);
    if (sp != std::string::npos && sp >= after) sum += std::strtod(text.c_str() + sp + 1, nullptr);
  }
  return sum;
}

// A fresh zynd-collector: RocksDB in a temp dir, its own loopback port.
class Daemon {
 public:
  // Follows only the containers labelled zc.e2e=<tag> (other zynd-* containers on the engine are
  // not its business).
  explicit Daemon(const std::string& tag)
      : port_(zc::testing::freePort()),
        proc_(zc::testing::collectorArgv({"--select-label", "zc.e2e=" + tag, "--data-dir",
                                          dir_.path() + "/data", "--listen",
                                          "127.0.0.1:" + std::to_string(port_), "--keep-crashed",
                                          "true", "--router", "none", "--log-level", "warn",
                                          // up to 1,000 clients, all from 127.0.0.1, stand for
                                          // as many peers: no per-peer caps
                                          "--max-connections-per-peer", "0",
                                          "--max-streams-per-client", "2000"})) {}
  ~Daemon() { stop(); }

  uint16_t port() const { return port_; }
  pid_t pid() const { return proc_.pid(); }

  // Healthy and connected to the engine (linesIngested unchanged for 1 s; at most 60 s).
  bool start(std::string* why) {
    if (!proc_.started() || !zc::testing::waitHealthy(port_, nullptr, 30s)) {
      *why = "the collector did not become healthy: " + proc_.err();
      return false;
    }
    int64_t last = -1;
    int still = 0;
    auto deadline = Clock::now() + 60s;
    while (Clock::now() < deadline && still < 5) {
      int64_t lines = ingested();
      still = lines >= 0 && lines == last ? still + 1 : 0;
      last = lines;
      std::this_thread::sleep_for(200ms);
    }
    return true;
  }

  // The deployment is listed with status running.
  bool deploymentRunning(const std::string& id) const {
    std::string body;
    if (zc::testing::httpGet(port_, "/api/deployments/" + id, &body) != 200) return false;
    try {
      Poco::JSON::Parser p;
      auto obj = p.parse(body).extract<Poco::JSON::Object::Ptr>();
      return obj->getValue<std::string>("status") == "running";
    } catch (const std::exception&) {
      return false;
    }
  }

  std::string metrics() const {
    std::string body;
    zc::testing::httpGet(port_, "/metrics", &body);
    return body;
  }

  std::string err() const { return proc_.err(); }

  void stop() {
    proc_.signal(SIGTERM);
    proc_.wait(15s);
  }

 private:
  int64_t ingested() const {
    auto h = zc::bench::healthz(port_);
    try {
      if (!h || !h->getObject("runtime")->getValue<bool>("connected")) return -1;
      return h->getObject("pipeline")->getValue<int64_t>("linesIngested");
    } catch (const std::exception&) {
      return -1;
    }
  }

  zc::testing::TempDir dir_;
  uint16_t port_;
  zc::testing::ChildProcess proc_;
};

// The writer: the container copies the FIFO /x/lines of its bind mount to its stdout, then sleeps;
// the bench writes the lines into the FIFO from a thread of its own, one write() per line at its
// pinned instant. Removed (by its name) on destruction.
class PacedWriter {
 public:
  ~PacedWriter() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    if (!name_.empty()) zc::bench::docker("rm -f " + name_);
  }

  bool start(const std::string& name, const std::string& tag, std::string* why) {
    fifo_ = mount_.path() + "/lines";
    if (::mkfifo(fifo_.c_str(), 0666) != 0) {
      *why = "cannot create the FIFO " + fifo_;
      return false;
    }
    std::string out;
    int rc = zc::bench::docker("run -d --name " + name + " --label zynd.test=1 --label zc.e2e=" + tag + " -v " +
                                   mount_.path() + ":/x " + zc::testing::testImage() +
                                   " sh -c 'cat /x/lines; sleep 3600'",
                               &out);
    if (rc != 0) {
      *why = "docker run " + name + " failed";
      return false;
    }
    name_ = name;
    id_ = out.substr(0, out.find('\n'));
    return true;
  }

  // Opens the FIFO (the container's `cat` holds its other end by now) and writes `lines` lines at
  // `rate` per second in a thread. writeStartNs() is the realtime of the first write.
  bool go(uint64_t lines, double rate, std::string* why) {
    fd_ = ::open(fifo_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) {
      *why = "cannot open the FIFO for writing";
      return false;
    }
    thread_ = std::thread([this, lines, rate] { run(lines, rate); });
    while (startNs_.load() == 0) std::this_thread::sleep_for(1ms);
    return true;
  }

  const std::string& id() const { return id_; }
  int64_t writeStartNs() const { return startNs_.load(); }
  bool finished() const { return finished_.load(); }
  // After finished(): the rate the writer achieved (lines / time from its first to last write).
  double achievedRate() const { return achieved_; }

 private:
  void run(uint64_t lines, double rate) {
    const std::string pad(kPadBytes, 'x');
    auto t0 = Clock::now();
    startNs_ = zc::bench::realtimeNs();
    for (uint64_t i = 0; i < lines && !stop_; ++i) {
      std::this_thread::sleep_until(
          t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(i) * 1e9 / rate)));
      std::string line = "line " + std::to_string(i) + " " + pad + "\n";
      if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) break;
    }
    double took = seconds(Clock::now() - t0);
    achieved_ = took > 0 && lines > 1 ? static_cast<double>(lines - 1) / took : 0;
    ::close(fd_);  // the container's `cat` ends; it sleeps then
    fd_ = -1;
    finished_ = true;
  }

  zc::testing::TempDir mount_;
  std::string fifo_;
  std::string name_;
  std::string id_;
  int fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<int64_t> startNs_{0};
  double achieved_ = 0;
};

// ---------------------------------------------------------------------------------------------
// One scenario

struct Outcome {
  std::string failure;  // "" when measured and verified
  std::vector<double> sseMs, engineMs;
  std::vector<double> arrivedMs;                // SSE, from the socket's receive timestamp
  std::vector<double> firstClientMs, spreadMs;  // per line: to the first client; first -> last
  std::vector<double> deliveredPerSecond;       // per client
  double writtenPerSecond = 0;                  // what the writer achieved
  double openSeconds = 0;
  size_t refusals = 0;
  zc::bench::ProcStatus idle, after;
  double collectorCpuPct = 0, clientsCpuPct = 0;
  double collectorSwitchesPerLine = 0;  // context switches of all its threads / lines
  double hubRejected = 0, hubDropped = 0;
};

struct Scenario {
  size_t clients = 1;
  double rate = 200;  // lines per second
  uint64_t lines = 2000;
  size_t sampled = 10;

  std::string name() const {
    return "container → SSE, " + zc::bench::withCommas(clients) +
           (clients == 1 ? " client, " : " clients, ") +
           zc::bench::withCommas(static_cast<uint64_t>(rate)) + " lines/s";
  }
};

Outcome runScenario(const Scenario& sc, const std::string& tag) {
  Outcome o;
  Daemon daemon(tag);
  if (!daemon.start(&o.failure)) return o;

  const std::string id = "e2e" + tag + "-" + std::to_string(sc.clients) + "-" +
                         std::to_string(static_cast<uint64_t>(sc.rate));
  PacedWriter writer;
  if (!writer.start("zynd-" + id, tag, &o.failure)) return o;
  if (!zc::testing::waitFor([&] { return daemon.deploymentRunning(id); }, 30s, 50ms)) {
    o.failure = "the collector did not list deployment " + id + " as running";
    return o;
  }
  std::this_thread::sleep_for(500ms);  // let its follow open

  SseFleet fleet(daemon.port(), id, sc.clients, sc.sampled, sc.lines);
  auto open0 = Clock::now();
  if (!fleet.open(open0 + 30s + sc.clients * 50ms, &o.failure)) return o;
  o.openSeconds = seconds(Clock::now() - open0);
  o.refusals = fleet.refusals();
  std::this_thread::sleep_for(300ms);
  o.idle = zc::bench::procStatus(daemon.pid());

  EngineFollower follower(sc.lines);
  if (!follower.start(writer.id(), &o.failure)) return o;

  double cpuDaemon0 = zc::bench::cpuSeconds(daemon.pid()),
         cpuSelf0 = zc::bench::cpuSeconds(::getpid());
  uint64_t switches0 = contextSwitches(daemon.pid());
  auto run0 = Clock::now();
  if (!writer.go(sc.lines, sc.rate, &o.failure)) return o;
  // Bounded twice: the writer has its duration plus kWriteSlack, then the clients have
  // kDrainGrace after the last line reached the plain follower.
  const auto writeLimit =
      run0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                 static_cast<double>(sc.lines) / sc.rate)) + kWriteSlack;
  Clock::time_point written{};
  auto giveUp = [&] {
    auto now = Clock::now();
    if (written == Clock::time_point{} && follower.complete()) written = now;
    return written == Clock::time_point{} ? now > writeLimit : now > written + kDrainGrace;
  };
  bool done = fleet.runUntilComplete([&] { return follower.complete(); }, giveUp);
  double runSec = seconds(Clock::now() - run0);
  o.collectorCpuPct = 100 * (zc::bench::cpuSeconds(daemon.pid()) - cpuDaemon0) / runSec;
  o.clientsCpuPct = 100 * (zc::bench::cpuSeconds(::getpid()) - cpuSelf0) / runSec;
  o.collectorSwitchesPerLine = static_cast<double>(contextSwitches(daemon.pid()) - switches0) /
                               static_cast<double>(sc.lines);
  o.after = zc::bench::procStatus(daemon.pid());
  follower.stop();
  std::string m = daemon.metrics();
  o.hubRejected = metricSum(m, "zynd_collector_sse_streams_rejected_total");
  o.hubDropped = metricSum(m, "zynd_collector_sse_streams_dropped_total");

  o.sseMs = std::move(fleet.samplesMs());
  o.arrivedMs = std::move(fleet.arrivedMs());
  o.firstClientMs = fleet.firstClientMs();
  o.spreadMs = fleet.spreadMs();
  o.deliveredPerSecond = fleet.deliveredPerSecond(writer.writeStartNs());
  o.engineMs = std::move(follower.samplesMs());
  o.writtenPerSecond = writer.finished() ? writer.achievedRate() : 0;
  if (!follower.error().empty()) {
    o.failure = follower.error();
  } else if (!follower.complete()) {
    o.failure = "the engine delivered " + std::to_string(follower.received()) + " of " +
                std::to_string(sc.lines) + " lines in time";
  } else if (std::string bad = fleet.verify(); !bad.empty()) {
    o.failure = bad + " (" + std::to_string(fleet.completeClients()) + " of " +
                std::to_string(sc.clients) + " clients complete " +
                std::to_string(kDrainGrace.count()) + " s after the container's last line)";
  } else if (!done) {
    o.failure = "the SSE loop stopped early";
  }
  return o;
}

void report(Report& rep, const Scenario& sc, Outcome& o) {
  const std::string scenario = sc.name();
  double sseMax = o.sseMs.empty() ? 0 : *std::max_element(o.sseMs.begin(), o.sseMs.end());
  double engMax = o.engineMs.empty() ? 0 : *std::max_element(o.engineMs.begin(), o.engineMs.end());
  double sse50 = zc::bench::quantile(o.sseMs, 0.50), sse99 = zc::bench::quantile(o.sseMs, 0.99);
  double eng50 = zc::bench::quantile(o.engineMs, 0.50);
  double eng99 = zc::bench::quantile(o.engineMs, 0.99);
  double slowest = o.deliveredPerSecond.empty()
                       ? 0
                       : *std::min_element(o.deliveredPerSecond.begin(), o.deliveredPerSecond.end());
  std::printf(
      "%s: %lu lines written at %.0f lines/s; SSE p50 %.2f p99 %.2f max %.2f ms (%zu samples from "
      "%zu clients) | engine p50 %.2f p99 %.2f max %.2f ms\n",
      scenario.c_str(), static_cast<unsigned long>(sc.lines), o.writtenPerSecond, sse50, sse99,
      sseMax, o.sseMs.size(), std::min(sc.sampled, sc.clients), eng50, eng99, engMax);
  std::printf(
      "  delivered to the slowest client: %.0f lines/s; streams open in %.2f s (%zu refusals "
      "retried); collector RSS %ld MiB idle with the streams, %ld MiB after, peak %ld MiB, "
      "threads %ld; CPU during the run: collector %.0f%%, clients (this process) %.0f%% of one "
      "core; collector context switches %.1f per line; hub rejected %.0f dropped %.0f\n",
      slowest, o.openSeconds, o.refusals, o.idle.rssKb / 1024, o.after.rssKb / 1024,
      o.after.hwmKb / 1024, o.after.threads, o.collectorCpuPct, o.clientsCpuPct,
      o.collectorSwitchesPerLine, o.hubRejected, o.hubDropped);
  std::printf("  SSE at socket arrival (kernel receive timestamp): p50 %.2f p99 %.2f ms\n",
              zc::bench::quantile(o.arrivedMs, 0.5), zc::bench::quantile(o.arrivedMs, 0.99));
  if (std::min(sc.sampled, sc.clients) > 1) {
    std::printf(
        "  per line: to the first sampled client p50 %.2f p99 %.2f ms; fan-out first -> last "
        "sampled client p50 %.2f p99 %.2f ms\n",
        zc::bench::quantile(o.firstClientMs, 0.5), zc::bench::quantile(o.firstClientMs, 0.99),
        zc::bench::quantile(o.spreadMs, 0.5), zc::bench::quantile(o.spreadMs, 0.99));
  }
  std::fflush(stdout);
  if (!o.failure.empty()) {
    rep.fail(kSection, scenario, o.failure);
    return;
  }
  char note[256];
  std::snprintf(note, sizeof note,
                "%.0f lines/s written; %zu SSE samples, %zu engine samples; CPU collector %.0f%%, "
                "clients %.0f%%",
                o.writtenPerSecond, o.sseMs.size(), o.engineMs.size(), o.collectorCpuPct,
                o.clientsCpuPct);
  rep.add(Figure{kSection, scenario, "p50", "ms", sse50, kBaseline, eng50, Better::kLower, note});
  rep.add(Figure{kSection, scenario, "p99", "ms", sse99, kBaseline, eng99, Better::kLower, note});
  rep.add(Figure{kSection, scenario, "delivered to the slowest client", "lines/s", slowest,
                 "the write rate", o.writtenPerSecond, Better::kHigher, note});
}

// ---------------------------------------------------------------------------------------------

// "a,b,c" of numbers in [lo, hi].
bool parseList(const std::string& list, size_t lo, size_t hi, std::vector<size_t>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = std::min(list.find(',', pos), list.size());
    std::string item = list.substr(pos, comma - pos);
    char* end = nullptr;
    unsigned long n = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < lo || n > hi) return false;
    out->push_back(n);
    pos = comma + 1;
  }
  return !out->empty();
}

}  // namespace

int main(int argc, char** argv) {
  Report rep(argc, argv);
  std::vector<size_t> clients =
      rep.smoke() ? std::vector<size_t>{1, 10} : std::vector<size_t>{1, 100, 1000};
  std::vector<size_t> rates = rep.smoke() ? std::vector<size_t>{200} : std::vector<size_t>{200, 2000};
  int secondsEach = rep.smoke() ? 1 : 10;
  size_t sampled = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--clients" && i + 1 < argc && parseList(argv[i + 1], 1, kMaxClients, &clients)) {
      ++i;
    } else if (a == "--rates" && i + 1 < argc && parseList(argv[i + 1], 1, 20000, &rates)) {
      ++i;
    } else if (a == "--seconds" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      secondsEach = std::min(std::atoi(argv[++i]), 120);
    } else if (a == "--sampled" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      sampled = static_cast<size_t>(std::min(std::atoi(argv[++i]), 1000));
    } else {
      std::fprintf(stderr,
                   "usage: bench_e2e [--clients 1,100,1000] [--rates 200,2000] [--seconds 10] "
                   "[--sampled 10] [--smoke] [--report FILE]\n");
      return 2;
    }
  }
  if (!zc::testing::dockerAvailable()) {
    std::fprintf(stderr, "bench_e2e: no Docker engine at %s\n",
                 zc::testing::dockerSocketPath().c_str());
    return 1;
  }
  // Room for the clients' sockets here and, inherited, for the collector's streams.
  if (!zc::bench::raiseFileLimit(*std::max_element(clients.begin(), clients.end()) + 512)) return 1;
  ::signal(SIGPIPE, SIG_IGN);

  const std::string tag = zc::bench::uniqueTag();
  std::printf("bench_e2e: container -> SSE latency vs. a plain engine follower, %d s per scenario\n",
              secondsEach);
  std::fflush(stdout);
  for (size_t rate : rates) {
    for (size_t n : clients) {
      Scenario sc;
      sc.clients = n;
      sc.rate = static_cast<double>(rate);
      sc.lines = std::clamp<uint64_t>(rate * static_cast<uint64_t>(secondsEach), 2, kMaxLines);
      sc.sampled = sampled;
      Outcome o = runScenario(sc, tag);
      report(rep, sc, o);
    }
  }
  return rep.failures() == 0 ? 0 : 1;
}
