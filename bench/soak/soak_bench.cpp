// bench/soak: does the collector's memory plateau? A long run of the real daemon against the real
// engine, its RSS, threads and open files printed every minute, next to the Docker engine's own
// figures measured over the same run (the engine serves the same containers: the honest ceiling
// for "flat").
//
//   bench_soak [--minutes 60] [--containers 30] [--crashers 3] [--readers 20] [--rate 50]
//              [--sample-s 60] [--reconnect-s 60] [--smoke] [--report FILE]
//
// A fresh zynd-collector (RocksDB in a temp dir, its own loopback port, --metrics-interval and
// --health-interval 10 s so that many passes fall in the run) follows:
//   - `containers` writers zynd-soak<tag>-w<i>, each printing `n <k>` for k = 0, 1, 2, ... in
//     bursts of `rate` lines then `sleep 1`;
//   - `crashers` zynd-soak<tag>-c<i> under --restart always, each run printing 20 lines over
//     ~10 s and exiting with 3 (the engine restarts it: one death every ~10 s each);
//   - `readers` SSE clients, each on one writer's stream (?batch=1), reconnecting every
//     `reconnect-s` seconds with Last-Event-ID, as a page left open does;
//   - /metrics and /healthz polled every 5 s.
// Every `sample-s` seconds it prints the collector's RSS, threads and open fds (floor and peak of
// 10 readings over 5 s: a sampling pass in flight holds one engine connection per running
// container), and the engine's.
// At the end: growth over the last half of the run (RSS in %, threads and fds floors as counts), each
// next to the engine's; then the writers are stopped and every writer's lines are read back from
// the API: lost (k never stored) and duplicated (k stored twice) lines, next to 0; and the deaths
// recorded ([CRASH] lines) next to the engine's RestartCount.
// Goal (README): RSS growth over the last half < 5 %, threads and fds flat.
// --smoke: 15 s, 4 writers, 1 crasher, 3 readers, samples every 4 s, reconnects every 5 s.
// Loopback and the local engine only; every loop is bounded by the run's deadline, every wait
// has its own; the containers are removed at the end (also on failure).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "report.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using zc::bench::Better;
using zc::bench::Figure;
using zc::bench::Report;

constexpr const char* kSection = "soak";
constexpr const char* kEngine = "Docker engine (same containers, same run)";

struct Options {
  int minutes = 60;
  int containers = 30;
  int crashers = 3;
  int readers = 20;
  int rate = 50;
  int sampleS = 60;
  int reconnectS = 60;
  int runS() const { return minutes * 60; }
};

// One sample: 10 readings 0.5 s apart. Threads and fds are their floor (what stays open between
// passes; growth is computed on it) and their peak (a sampling pass holds one engine connection
// per running container while it is under way: a reading inside a pass is higher by that).
struct Sample {
  double atS = 0;
  long rssKb = 0;
  long threads = 0;
  long fds = 0;
  long peakThreads = 0;
  long peakFds = 0;
  long engineRssKb = 0;
  long engineThreads = 0;
  long engineFds = 0;
};

long openFds(pid_t pid) {
  long n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

Sample sampleOf(pid_t collector, pid_t engine, double atS) {
  Sample s;
  s.atS = atS;
  s.threads = s.fds = std::numeric_limits<long>::max();
  for (int i = 0; i < 10; ++i) {
    if (i > 0) std::this_thread::sleep_for(500ms);
    auto c = zc::bench::procStatus(collector);
    long fds = openFds(collector);
    s.rssKb = c.rssKb;
    s.threads = std::min(s.threads, c.threads);
    s.fds = std::min(s.fds, fds);
    s.peakThreads = std::max(s.peakThreads, c.threads);
    s.peakFds = std::max(s.peakFds, fds);
  }
  if (engine > 0) {
    auto e = zc::bench::procStatus(engine);
    s.engineRssKb = e.rssKb;
    s.engineThreads = e.threads;
    s.engineFds = openFds(engine);
  }
  return s;
}

// One SSE reader: opens the stream, reads (and throws away) until `until`, remembers the last
// `id:` it saw for the next connection. Bounded by `until`; ends early once `done`.
void readStream(uint16_t port, const std::string& id, Steady::time_point until,
                const std::atomic<bool>& done, std::string* lastEventId,
                std::atomic<uint64_t>* bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  std::string req = "GET /api/deployments/" + id + "/logs/stream?batch=1 HTTP/1.1\r\nHost: 127.0.0.1:" +
                    std::to_string(port) + "\r\nAccept: text/event-stream\r\n";
  if (!lastEventId->empty()) req += "Last-Event-ID: " + *lastEventId + "\r\n";
  req += "\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return;
  }
  std::string tail;  // the unparsed end of what was read, for `id:` lines
  char buf[65536];
  while (Steady::now() < until && !done) {
    pollfd p{fd, POLLIN, 0};
    int ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - Steady::now()).count());
    if (::poll(&p, 1, std::clamp(ms, 1, 1000)) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    bytes->fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    tail.append(buf, static_cast<size_t>(n));
    size_t pos = 0;
    for (size_t nl; (nl = tail.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      if (tail.compare(pos, 4, "id: ") == 0) *lastEventId = tail.substr(pos + 4, nl - pos - 4);
    }
    tail.erase(0, pos);
    if (tail.size() > (1 << 20)) tail.clear();
  }
  ::close(fd);
}

// Every line of deployment `id` from the API, paged; false when a page fails.
bool readAllLines(uint16_t port, const std::string& id, std::vector<std::string>* texts) {
  uint64_t since = 0;
  for (int page = 0; page < 100000; ++page) {
    std::string body;
    if (zc::testing::httpGet(port, "/api/deployments/" + id + "/logs?since=" +
                                       std::to_string(since) + "&limit=5000",
                             &body) != 200) {
      return false;
    }
    Poco::JSON::Parser parser;
    auto obj = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    auto lines = obj->getArray("lines");
    if (!lines || lines->size() == 0) return true;
    for (size_t i = 0; i < lines->size(); ++i) {
      auto l = lines->getObject(static_cast<unsigned>(i));
      if (l->getValue<std::string>("stream") != "system") {
        texts->push_back(l->getValue<std::string>("text"));
      } else {
        texts->push_back("#" + l->getValue<std::string>("text"));
      }
    }
    uint64_t next = obj->getValue<uint64_t>("nextSince");
    if (next <= since) return true;
    since = next;
  }
  return true;
}

int intArg(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "bench_soak: %s needs a value\n", argv[i]);
    std::exit(2);
  }
  return std::max(1, std::atoi(argv[++i]));
}

}  // namespace

int main(int argc, char** argv) {
  Report report(argc, argv);
  Options o;
  if (report.smoke()) {
    o = Options{0, 4, 1, 3, 50, 4, 5};
  }
  int smokeSeconds = 15;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--minutes") o.minutes = intArg(argc, argv, i);
    else if (a == "--containers") o.containers = std::min(intArg(argc, argv, i), 200);
    else if (a == "--crashers") o.crashers = std::min(intArg(argc, argv, i), 50);
    else if (a == "--readers") o.readers = std::min(intArg(argc, argv, i), 500);
    else if (a == "--rate") o.rate = std::min(intArg(argc, argv, i), 1000);
    else if (a == "--sample-s") o.sampleS = intArg(argc, argv, i);
    else if (a == "--reconnect-s") o.reconnectS = intArg(argc, argv, i);
    else {
      std::fprintf(stderr, "bench_soak: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  const int runS = o.minutes > 0 ? std::min(o.runS(), 24 * 3600) : smokeSeconds;
  const std::string scenario = std::to_string(runS / 60) + " min" +
                               (runS % 60 ? " " + std::to_string(runS % 60) + " s" : "") + ", " +
                               std::to_string(o.containers) + " writers x " +
                               std::to_string(o.rate) + " lines/s, " +
                               std::to_string(o.crashers) + " crash-looping, " +
                               std::to_string(o.readers) + " SSE readers";
  std::printf("bench_soak: %s\n", scenario.c_str());

  const std::string tag = "soak" + zc::bench::uniqueTag();
  std::vector<std::string> writers, crashers;
  auto cleanup = [&] {
    for (const auto& n : writers) zc::bench::docker("rm -f zynd-" + n);
    for (const auto& n : crashers) zc::bench::docker("rm -f zynd-" + n);
  };

  zc::testing::TempDir dir;
  const uint16_t port = zc::testing::freePort();
  zc::testing::ChildProcess daemon(zc::testing::collectorArgv(
      {"--data-dir", dir.path() + "/data", "--listen", "127.0.0.1:" + std::to_string(port),
       "--router", "none", "--log-level", "warn", "--metrics-interval", "10s",
       "--health-interval", "10s", "--max-connections-per-peer", "0",
       "--max-streams-per-client", "1000",
       // only this run's containers: other zynd-* containers on the engine are not followed
       "--select-label", "zc.soak=" + tag}));
  if (!daemon.started() || !zc::testing::waitHealthy(port, nullptr, 30s)) {
    report.fail(kSection, scenario, "the collector did not become healthy: " + daemon.err());
    return 1;
  }
  const pid_t engine = zc::bench::dockerdPid();

  // The containers.
  const std::string image = zc::testing::testImage();
  for (int i = 0; i < o.containers; ++i) {
    std::string name = tag + "-w" + std::to_string(i);
    std::string script = "i=0; while true; do j=0; while [ $j -lt " + std::to_string(o.rate) +
                         " ]; do echo \"n $i\"; i=$((i+1)); j=$((j+1)); done; sleep 1; done";
    if (zc::bench::docker("run -d --name zynd-" + name + " --label zc.soak=" + tag +
                          " " + image + " sh -c '" + script + "'") != 0) {
      report.fail(kSection, scenario, "docker run " + name + " failed");
      cleanup();
      return 1;
    }
    writers.push_back(name);
  }
  for (int i = 0; i < o.crashers; ++i) {
    std::string name = tag + "-c" + std::to_string(i);
    std::string script = "i=0; while [ $i -lt 20 ]; do echo \"c $i\"; i=$((i+1)); sleep 0.5; done; exit 3";
    if (zc::bench::docker("run -d --restart always --name zynd-" + name + " --label zc.soak=" +
                          tag + " " + image + " sh -c '" + script + "'") != 0) {
      report.fail(kSection, scenario, "docker run " + name + " failed");
      cleanup();
      return 1;
    }
    crashers.push_back(name);
  }

  const auto t0 = Steady::now();
  const auto end = t0 + std::chrono::seconds(runS);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> sseBytes{0}, polls{0}, pollFailures{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < o.readers && !writers.empty(); ++r) {
    threads.emplace_back([&, r] {
      const std::string id = writers[static_cast<size_t>(r) % writers.size()];
      std::string last;
      // Until the final sample is taken (`done`), so that it sees them open; bounded anyway.
      while (!done && Steady::now() < end + 60s) {
        auto until = std::min(end + 60s, Steady::now() + std::chrono::seconds(o.reconnectS));
        readStream(port, id, until, done, &last, &sseBytes);
        if (Steady::now() < until) std::this_thread::sleep_for(500ms);  // refused or cut: a pause
      }
    });
  }
  threads.emplace_back([&] {
    while (!done && Steady::now() < end + 60s) {
      for (const char* path : {"/metrics", "/healthz"}) {
        polls.fetch_add(1);
        if (zc::testing::httpGet(port, path) != 200) pollFailures.fetch_add(1);
      }
      for (int i = 0; i < 50 && !done; ++i) std::this_thread::sleep_for(100ms);
    }
  });

  std::vector<Sample> samples;
  auto take = [&] {
    double at = std::chrono::duration<double>(Steady::now() - t0).count();
    samples.push_back(sampleOf(daemon.pid(), engine, at));
    const Sample& s = samples.back();
    std::printf("  t=%5.0f s  collector: RSS %7.1f MiB  threads %4ld (peak %4ld)  fds %5ld (peak "
                "%5ld)  |  engine: RSS %7.1f MiB  threads %4ld  fds %5ld\n",
                s.atS, s.rssKb / 1024.0, s.threads, s.peakThreads, s.fds, s.peakFds,
                s.engineRssKb / 1024.0, s.engineThreads, s.engineFds);
    std::fflush(stdout);
  };
  take();
  while (Steady::now() < end) {
    auto next = std::min(end, Steady::now() + std::chrono::seconds(o.sampleS));
    while (Steady::now() < next) std::this_thread::sleep_for(200ms);
    if (::kill(daemon.pid(), 0) != 0) break;
    take();
  }
  done = true;
  for (auto& t : threads) t.join();
  if (::kill(daemon.pid(), 0) != 0) {
    report.fail(kSection, scenario, "the collector died during the run: " + daemon.err());
    cleanup();
    return 1;
  }

  // Growth over the last half: the sample nearest the middle against the last one.
  const Sample& last = samples.back();
  const Sample* mid = &samples.front();
  for (const Sample& s : samples) {
    if (s.atS <= last.atS / 2) mid = &s;
  }
  auto pct = [](long from, long to) { return from > 0 ? 100.0 * double(to - from) / double(from) : 0; };
  const std::string half = "over the last half (" + std::to_string(int(last.atS - mid->atS)) + " s)";
  report.add({kSection, scenario, "RSS growth " + half, "%", pct(mid->rssKb, last.rssKb), kEngine,
              pct(mid->engineRssKb, last.engineRssKb), Better::kLower, "goal < 5 %"});
  // The top of the sawtooth: the highest RSS of the last half against the highest before it.
  long peakBefore = 0, peakAfter = 0, enginePeakBefore = 0, enginePeakAfter = 0;
  for (const Sample& s : samples) {
    bool after = s.atS > mid->atS;
    (after ? peakAfter : peakBefore) = std::max(after ? peakAfter : peakBefore, s.rssKb);
    (after ? enginePeakAfter : enginePeakBefore) =
        std::max(after ? enginePeakAfter : enginePeakBefore, s.engineRssKb);
  }
  report.add({kSection, scenario, "RSS peak, last half vs first half", "%",
              pct(peakBefore, peakAfter), kEngine, pct(enginePeakBefore, enginePeakAfter),
              Better::kLower, "a sawtooth still rising shows here"});
  report.add({kSection, scenario, "threads growth " + half, "threads",
              double(last.threads - mid->threads), kEngine,
              double(last.engineThreads - mid->engineThreads), Better::kLower, "goal 0 (flat)"});
  report.add({kSection, scenario, "fds growth " + half, "fds", double(last.fds - mid->fds),
              kEngine, double(last.engineFds - mid->engineFds), Better::kLower, "goal 0 (flat)"});
  report.add({kSection, scenario, "RSS at the end", "MiB", last.rssKb / 1024.0, kEngine,
              last.engineRssKb / 1024.0, Better::kLower, ""});

  // Lost and duplicated lines: stop the writers, let the collector store their last lines, read
  // everything back.
  // The last k of each writer is read right after the stop: the collector removes a dead
  // container after --crash-grace.
  std::vector<long> lastKs(writers.size(), -1);
  zc::bench::parallelFor(writers.size(), 8, [&](size_t i) {
    zc::bench::docker("stop -t 1 zynd-" + writers[i]);
    std::string out;
    zc::bench::docker("logs --tail 1 zynd-" + writers[i], &out);
    if (out.rfind("n ", 0) == 0) lastKs[i] = std::atol(out.c_str() + 2);
  });
  uint64_t expected = 0, stored = 0, lost = 0, duplicated = 0, deaths = 0, restarts = 0;
  bool readFailed = false;
  for (size_t w = 0; w < writers.size(); ++w) {
    const std::string& n = writers[w];
    const long lastK = lastKs[w];
    expected += static_cast<uint64_t>(lastK + 1);
    // The collector has it all when the last line is stored (at most 60 s).
    std::vector<uint32_t> seen;
    auto deadline = Steady::now() + 60s;
    for (;;) {
      std::vector<std::string> texts;
      if (!readAllLines(port, n, &texts)) {
        readFailed = true;
        break;
      }
      seen.assign(static_cast<size_t>(lastK + 1), 0);
      uint64_t count = 0;
      for (const auto& t : texts) {
        if (t.rfind("n ", 0) != 0) continue;
        long k = std::atol(t.c_str() + 2);
        if (k >= 0 && k <= lastK) ++seen[static_cast<size_t>(k)];
        ++count;
      }
      bool complete = lastK < 0 || seen[static_cast<size_t>(lastK)] > 0;
      if (complete || Steady::now() > deadline) {
        stored += count;
        break;
      }
      std::this_thread::sleep_for(1s);
    }
    for (uint32_t c : seen) {
      if (c == 0) ++lost;
      if (c > 1) duplicated += c - 1;
    }
  }
  // Each death's [CRASH] line waits until its run's log is read to the end: up to 20 s for the
  // latest deaths to be recorded.
  for (const auto& n : crashers) {
    std::string out;
    zc::bench::docker("inspect -f '{{.RestartCount}}' zynd-" + n, &out);
    const auto restartCount = static_cast<uint64_t>(std::atol(out.c_str()));
    restarts += restartCount;
    uint64_t recorded = 0;
    for (auto deadline = Steady::now() + 20s;;) {
      std::vector<std::string> texts;
      recorded = 0;
      if (readAllLines(port, n, &texts)) {
        for (const auto& t : texts) {
          if (t.rfind("#[CRASH] ", 0) == 0) ++recorded;
        }
      }
      if (recorded >= restartCount || Steady::now() > deadline) break;
      std::this_thread::sleep_for(1s);
    }
    deaths += recorded;
  }
  cleanup();
  daemon.signal(SIGTERM);
  daemon.wait(15s);
  if (readFailed) {
    report.fail(kSection, scenario, "reading the stored lines back failed");
    return 1;
  }
  const std::string counted = "writers' lines: " + zc::bench::withCommas(expected) +
                              " written, " + zc::bench::withCommas(stored) + " stored";
  std::printf("  %s\n", counted.c_str());
  report.add({kSection, scenario, "lines lost", "lines", double(lost), "none (the goal)", 0,
              Better::kLower, counted});
  report.add({kSection, scenario, "lines duplicated", "lines", double(duplicated),
              "none (the goal)", 0, Better::kLower, counted});
  report.add({kSection, scenario, "deaths recorded ([CRASH])", "deaths", double(deaths),
              "the engine's RestartCount", double(restarts), Better::kHigher,
              "a crasher may have died again after its last restart: deaths >= restarts"});
  std::printf("  SSE bytes read %s, /metrics + /healthz polls %llu (%llu failed)\n",
              zc::bench::withCommas(sseBytes.load()).c_str(),
              static_cast<unsigned long long>(polls.load()),
              static_cast<unsigned long long>(pollFailures.load()));
  return lost == 0 && duplicated == 0 ? 0 : 1;
}
