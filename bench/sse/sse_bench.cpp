// bench_sse: N concurrent SSE clients on one deployment fed `rate` lines/s through the LiveBus.
//
// The collector side (FakeCollectorApi on the memory storage, HttpServer, SSE hub) runs in a
// forked child so that its RSS and thread count are its own; the clients run in the parent on
// ONE epoll thread. Each line carries its CLOCK_MONOTONIC publish time: latency = publish (commit
// then bus) -> event parsed by the client. A REST prober measures GET latency during the run.
// Loopback only; bounded in clients (<= 5000) and time (<= 120 s).
//
//   bench_sse [--clients 100] [--seconds 10] [--rate 1000] [--threads 2 (the hub's)]
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "fake_collector_api.h"
#include "http_test_client.h"
#include "report.h"
#include "zc/exporters/exporters.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kPreloaded = 1000;

int64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// "VmRSS" in KiB and "Threads" of a process.
std::pair<long, long> rssAndThreads(pid_t pid) {
  zc::bench::ProcStatus s = zc::bench::procStatus(pid);
  return {s.rssKb, s.threads};
}

bool readByte(int fd, char* c) {
  return ::read(fd, c, 1) == 1;
}

[[noreturn]] void runCollector(int cmdFd, int replyFd, int clients, int seconds, int rate,
                               int threads) {
  zc::testing::FakeCollectorApi api;
  api.addDeployment("bench");
  for (uint64_t i = 0; i < kPreloaded; i += 100) api.appendNumbered("bench", 100);
  zc::exporters::HttpServerOptions http;
  http.port = 0;
  http.maxConnectionsPerPeer = 0;  // the clients, all from 127.0.0.1, stand for many peers
  zc::exporters::HttpServer server(http);
  zc::exporters::ExporterOptions opts;
  opts.sse.maxClients = static_cast<size_t>(clients) + 16;
  opts.sse.maxStreamsPerClient = opts.sse.maxClients;  // every client is 127.0.0.1
  opts.sse.threads = static_cast<size_t>(threads);
  auto ex = zc::exporters::registerExporters(server, api, opts);
  if (!ex.isOk() || !server.start().isOk()) _exit(3);
  uint16_t port = server.port();
  (void)!::write(replyFd, &port, sizeof port);
  char c;
  if (!readByte(cmdFd, &c) || c != 'g') _exit(4);
  // `rate` lines/s in batches every 10 ms, as the pipeline commits them.
  const int perTick = std::max(1, rate / 100);
  const std::string pad(60, 'x');
  auto start = Clock::now();
  auto next = start;
  while (Clock::now() - start < std::chrono::seconds(seconds)) {
    next += std::chrono::milliseconds(10);
    api.appendGenerated("bench", static_cast<size_t>(perTick), [&](size_t, uint64_t) {
      return "t=" + std::to_string(monoNs()) + " " + pad;
    });
    std::this_thread::sleep_until(next);
  }
  uint64_t published =
      static_cast<uint64_t>(perTick) *
      static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count() / 10);
  (void)published;
  auto next_ = api.storage().nextLineNo("bench");
  uint64_t last = next_.isOk() ? *next_ - 1 : 0;
  (void)!::write(replyFd, &last, sizeof last);
  if (!readByte(cmdFd, &c)) _exit(5);
  auto st = (*ex)->sseHub().stats();
  std::printf(
      "  hub: clients %llu opened %llu rejected %llu dropped slow %llu stalled %llu\n",
      static_cast<unsigned long long>(st.clients), static_cast<unsigned long long>(st.opened),
      static_cast<unsigned long long>(st.rejected), static_cast<unsigned long long>(st.droppedSlow),
      static_cast<unsigned long long>(st.droppedStalled));
  std::fflush(stdout);
  server.stop();
  (*ex)->stop();
  _exit(0);
}

struct Client {
  int fd = -1;
  std::string buf;
  bool headSeen = false;
  bool ready = false;  // first event (status) seen
  uint64_t events = 0;
  uint64_t lastId = 0;
  bool refused = false;
};

struct Histogram {
  // 10 us buckets up to 10 s.
  std::vector<uint64_t> buckets = std::vector<uint64_t>(1'000'000, 0);
  uint64_t count = 0;
  double maxMs = 0;
  void add(double ms) {
    size_t b = std::min<size_t>(buckets.size() - 1, static_cast<size_t>(ms * 100));
    ++buckets[b];
    ++count;
    maxMs = std::max(maxMs, ms);
  }
  double quantile(double q) const {
    uint64_t want = static_cast<uint64_t>(q * static_cast<double>(count));
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen > want) return static_cast<double>(i + 1) / 100.0;
    }
    return maxMs;
  }
};

// Parses complete events in c.buf; records latencies of log events.
void consume(Client& c, Histogram& h) {
  if (!c.headSeen) {
    size_t e = c.buf.find("\r\n\r\n");
    if (e == std::string::npos) return;
    c.headSeen = true;
    c.buf.erase(0, e + 4);
  }
  size_t pos = 0, end;
  while ((end = c.buf.find("\n\n", pos)) != std::string::npos) {
    std::string_view block(c.buf.data() + pos, end - pos);
    pos = end + 2;
    if (block.rfind("event: log", 0) == 0) {
      size_t t = block.find("t=");
      size_t idp = block.find("id: ");
      if (t != std::string_view::npos) {
        int64_t sent = std::strtoll(block.data() + t + 2, nullptr, 10);
        h.add(static_cast<double>(monoNs() - sent) / 1e6);
      }
      if (idp != std::string_view::npos)
        c.lastId = std::strtoull(block.data() + idp + 4, nullptr, 10);
      ++c.events;
    } else if (block.rfind("event: status", 0) == 0) {
      c.ready = true;
    }
  }
  c.buf.erase(0, pos);
}

}  // namespace

int main(int argc, char** argv) {
  int clients = 100, seconds = 10, rate = 1000;
  int threads = static_cast<int>(zc::exporters::SseOptions().threads);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--clients")) clients = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rate")) rate = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  threads = std::clamp(threads, 1, 8);
  clients = std::clamp(clients, 1, 5000);
  seconds = std::clamp(seconds, 1, 120);
  rate = std::clamp(rate, 100, 20000);

  if (!zc::bench::raiseFileLimit(static_cast<size_t>(clients) + 512)) return 1;

  int cmd[2], reply[2];
  if (::pipe(cmd) != 0 || ::pipe(reply) != 0) return 1;
  std::fflush(stdout);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(cmd[1]);
    ::close(reply[0]);
    runCollector(cmd[0], reply[1], clients, seconds, rate, threads);
  }
  ::close(cmd[0]);
  ::close(reply[1]);
  uint16_t port = 0;
  if (::read(reply[0], &port, sizeof port) != sizeof port) return 1;
  auto [rss0, threads0] = rssAndThreads(child);

  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Client> cs(static_cast<size_t>(clients));
  const std::string req =
      "GET /api/deployments/bench/logs/stream?since=" + std::to_string(kPreloaded) +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
  Histogram hist;
  std::atomic<bool> stop{false};
  std::atomic<size_t> readyCount{0};
  std::atomic<size_t> refused{0};
  auto openClient = [&](size_t i) {
    cs[i] = Client();
    cs[i].fd = zc::testing::connectLoopback(port);
    if (cs[i].fd < 0) return false;
    (void)!::send(cs[i].fd, req.data(), req.size(), MSG_NOSIGNAL);
    ::fcntl(cs[i].fd, F_SETFL, ::fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    return true;
  };
  std::thread reader([&] {
    std::vector<epoll_event> evs(512);
    char buf[65536];
    while (!stop) {
      int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
      for (int i = 0; i < n; ++i) {
        Client& c = cs[evs[i].data.u64];
        ssize_t r;
        while ((r = ::recv(c.fd, buf, sizeof buf, 0)) > 0)
          c.buf.append(buf, static_cast<size_t>(r));
        bool wasReady = c.ready;
        if (!c.headSeen && c.buf.size() >= 12 && c.buf.compare(9, 3, "200") != 0) {
          // Refused (503 at a full accept queue): the client retries, as EventSource does.
          ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          c.buf.clear();
          c.refused = true;
          refused.fetch_add(1);
          continue;
        }
        consume(c, hist);
        if (!wasReady && c.ready) readyCount.fetch_add(1);
        if (r == 0) ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      }
    }
  });
  // Clients arrive in waves of 100 (page loads), retrying after a refusal.
  auto t0 = Clock::now();
  for (size_t base = 0; base < cs.size(); base += 100) {
    size_t end = std::min(cs.size(), base + 100);
    for (size_t i = base; i < end; ++i) {
      if (!openClient(i)) {
        std::fprintf(stderr, "connect %zu failed\n", i);
        return 1;
      }
    }
    while (readyCount < end && Clock::now() - t0 < std::chrono::seconds(60)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      for (size_t i = base; i < end; ++i) {
        if (cs[i].refused) {
          ::close(cs[i].fd);
          openClient(i);
        }
      }
    }
  }
  double connectSec = std::chrono::duration<double>(Clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto [rssIdle, threadsIdle] = rssAndThreads(child);

  // REST prober during the run.
  std::vector<double> restMs;
  std::thread prober([&] {
    while (!stop) {
      auto a = Clock::now();
      auto r = zc::testing::httpRequest(port, "GET", "/api/deployments/bench/logs?limit=100");
      if (r.status == 200)
        restMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  double cpuChild0 = zc::bench::cpuSeconds(child), cpuSelf0 = zc::bench::cpuSeconds(::getpid());
  auto run0 = Clock::now();
  (void)!::write(cmd[1], "g", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(seconds * 500));
  auto [rssRun, threadsRun] = rssAndThreads(child);
  uint64_t last = 0;
  (void)!::read(reply[0], &last, sizeof last);  // the publisher is done
  auto drainUntil = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < drainUntil) {
    bool all = true;
    for (const auto& c : cs) all = all && c.lastId >= last;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double runSec = std::chrono::duration<double>(Clock::now() - run0).count();
  double cpuChild = zc::bench::cpuSeconds(child) - cpuChild0,
         cpuSelf = zc::bench::cpuSeconds(::getpid()) - cpuSelf0;
  stop = true;
  reader.join();
  prober.join();
  uint64_t complete = 0, events = 0;
  for (const auto& c : cs) {
    complete += c.lastId >= last;
    events += c.events;
  }
  std::sort(restMs.begin(), restMs.end());
  auto q = [&](double p) {
    return restMs.empty()
               ? 0.0
               : restMs[std::min(restMs.size() - 1, static_cast<size_t>(p * restMs.size()))];
  };
  std::printf("bench_sse: %d clients, %d lines/s for %d s, %d hub threads (lines %llu..%llu)\n",
              clients, rate, seconds, threads, static_cast<unsigned long long>(kPreloaded + 1),
              static_cast<unsigned long long>(last));
  std::printf("  connect: all %zu streams ready in %.2f s\n", readyCount.load(), connectSec);
  std::printf(
      "  latency publish->event: p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%llu events, goal p99 < "
      "100 ms)\n",
      hist.quantile(0.50), hist.quantile(0.99), hist.maxMs,
      static_cast<unsigned long long>(hist.count));
  std::printf("  clients that received every line: %llu / %d\n",
              static_cast<unsigned long long>(complete), clients);
  std::printf(
      "  collector RSS: %ld KiB before streams, %ld KiB idle with %d streams (%.1f KiB/stream), "
      "%ld KiB during the run\n",
      rss0, rssIdle, clients, static_cast<double>(rssIdle - rss0) / clients, rssRun);
  std::printf("  collector threads: %ld before, %ld idle with streams, %ld during the run\n",
              threads0, threadsIdle, threadsRun);
  std::printf(
      "  CPU during the run: collector %.0f%% of one core, clients %.0f%%; %zu refusals (503) "
      "retried\n",
      100 * cpuChild / runSec, 100 * cpuSelf / runSec, refused.load());
  std::printf(
      "  REST GET /logs?limit=100 during the run: p50 %.2f ms  p99 %.2f ms  (%zu requests)\n",
      q(0.5), q(0.99), restMs.size());
  std::fflush(stdout);
  (void)events;
  for (auto& c : cs) ::close(c.fd);
  (void)!::write(cmd[1], "q", 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  return 0;
}
