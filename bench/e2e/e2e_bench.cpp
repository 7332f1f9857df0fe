// bench/e2e: end-to-end latency of a log line, container -> SSE client, at 1, 100 and 1,000
// clients, next to the engine's own delivery latency of the same lines, in the same run.
//
//   bench_e2e [--clients 1,100,1000] [--lines 2000] [--pause-us 0] [--smoke] [--report FILE]
//
// For each client count N (a fresh zynd-collector each time, RocksDB in a temp dir, so that RSS,
// threads and CPU are those of N streams and nothing is left over from the previous count):
//   1. a container zynd-e2e<tag>-<N> starts and waits for a file in its bind mount; the bench
//      waits until the collector lists its deployment as running;
//   2. N SSE clients GET /api/deployments/<id>/logs/stream (no since: what a page does), opened in
//      waves of 100 (a 503 is retried, as EventSource does), each ready at its first
//      `event: status`; they all run on the bench's main thread (one epoll loop);
//   3. baseline: a plain follower GETs /containers/<id>/logs?follow=1&stdout=1&stderr=1&
//      timestamps=1&since=<now> over the engine socket (the collector's own query) in its own
//      thread and decodes the 8-byte multiplexed frame headers;
//   4. the file is created: the container prints L lines of ~80 bytes, one `echo` then one
//      `usleep <pause-us>` each; usleep is a fork+exec of busybox (~3-4 ms on a loaded 2-core
//      VM), which paces the writer at a few hundred lines/s, one line per engine message and per
//      collector batch: the latency case, not the throughput one. Then it sleeps until removed.
// Latency of a line = CLOCK_REALTIME when the bytes holding it were received (read by the client,
// right before it parses them) - the line's engine timestamp: `ts` of the SSE event, the timestamp
// prefix for the follower. Both are the instant the engine read the line from the container, on
// the same host clock. The baseline is thus the engine's own delivery latency: the floor for
// anything that reads through the Engine API.
// Every client must receive every line exactly once, in order (lineNo contiguous, "line <i>" in
// sequence), and the follower too: the container has 5 minutes to write its lines, the clients
// 30 s more after the last one reached the follower; otherwise the scenario is FAILED.
// Reports p50 and p99 of both with the ratio. Prints, for information: max; the SSE latency at the
// kernel's receive timestamp of the client socket (SO_TIMESTAMPNS: without the time the one client
// thread took to reach that socket); per line, the latency to the first client and the spread
// first -> last client (the fan-out); the collector's RSS, threads and CPU, the bench's CPU.
// Loopback only; client counts are capped at 5,000, lines at 20,000, every wait has a deadline.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "collector_process.h"
#include "http_test_client.h"
#include "report.h"
#include "test_support.h"
#include "zc/model.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::bench::Better;
using zc::bench::Figure;
using zc::bench::Report;

constexpr size_t kWave = 100;         // SSE clients opened at once
constexpr size_t kMaxClients = 5000;  // bound of --clients
constexpr int kMaxRefusals = 100;     // 503s tolerated per client while opening
constexpr auto kRetryDelay = 250ms;   // before a refused client tries again
constexpr auto kMaxWrite = 300s;      // for the container to write its lines
constexpr auto kDrainGrace = 30s;     // then for every client to receive them
constexpr int kPadBytes = 70;         // "line 1234 " + 70 bytes: about 80 bytes per line
constexpr const char* kSection = "latency";
constexpr const char* kBaseline = "plain engine follower (same container, same run)";

// ---------------------------------------------------------------------------------------------
// Time

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// The engine's RFC 3339 timestamp -> ns since the epoch, with the collector's own parser.
bool parseRfc3339Ns(std::string_view s, int64_t* ns) {
  auto t = zc::parseRfc3339(s);
  if (!t.isOk()) return false;
  *ns = t.value();
  return true;
}

// The i of a line "line <i> ...", or -1.
int64_t lineIndex(std::string_view text) {
  if (text.substr(0, 5) != "line ") return -1;
  int64_t i = 0;
  size_t pos = 5;
  if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') return -1;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
    i = i * 10 + (text[pos++] - '0');
  return i;
}

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
  Daemon()
      : port_(zc::testing::freePort()),
        proc_(zc::testing::collectorArgv({"--data-dir", dir_.path() + "/data", "--listen",
                                          "127.0.0.1:" + std::to_string(port_), "--keep-crashed",
                                          "true", "--router", "none", "--log-level", "warn",
                                          // up to 1,000 clients, all from 127.0.0.1, stand for
                                          // as many peers: no per-peer caps
                                          "--max-connections-per-peer", "0",
                                          "--max-streams-per-client", "2000"})) {}
  ~Daemon() { stop(); }

  uint16_t port() const { return port_; }
  pid_t pid() const { return proc_.pid(); }

  // Healthy, connected to the engine, and done with the backlog of the other zynd-* containers
  // on the engine (linesIngested unchanged for 1 s; at most 60 s).
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

// The writer: waits for /x/go in its bind mount, prints `lines` lines, then sleeps. Removed (by
// its name) on destruction.
class Container {
 public:
  ~Container() {
    if (!name_.empty()) zc::bench::docker("rm -f " + name_);
  }

  bool start(const std::string& name, uint64_t lines, int pauseUs, std::string* why) {
    std::string script = "while [ ! -e /x/go ]; do usleep 20000; done; i=0; while [ $i -lt " +
                         std::to_string(lines) + " ]; do echo \"line $i " +
                         std::string(kPadBytes, 'x') + "\"; i=$((i+1)); usleep " +
                         std::to_string(pauseUs) + "; done; sleep 3600";
    std::string out;
    int rc =
        zc::bench::docker("run -d --name " + name + " --label zynd.test=1 -v " + mount_.path() +
                              ":/x " + zc::testing::testImage() + " sh -c '" + script + "'",
                          &out);
    if (rc != 0) {
      *why = "docker run " + name + " failed";
      return false;
    }
    name_ = name;
    id_ = out.substr(0, out.find('\n'));
    return true;
  }

  bool go() const { return std::ofstream(mount_.path() + "/go").good(); }
  const std::string& id() const { return id_; }

 private:
  zc::testing::TempDir mount_;
  std::string name_;
  std::string id_;
};

// ---------------------------------------------------------------------------------------------
// Baseline: a plain follower of the container's log on the engine socket, in its own thread.

class EngineFollower {
 public:
  explicit EngineFollower(uint64_t lines) : expected_(lines) { samplesMs_.reserve(lines); }
  ~EngineFollower() {
    stop();
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects, sends the query and waits for the response head (the engine flushes it once its
  // log reader is set up), then follows in a thread.
  bool start(const std::string& containerId, std::string* why) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s",
                  zc::testing::dockerSocketPath().c_str());
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      *why = "cannot connect to the engine socket";
      return false;
    }
    std::string req = "GET /containers/" + containerId +
                      "/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=" +
                      std::to_string(zc::bench::realtimeNs() / 1'000'000'000LL) +
                      " HTTP/1.0\r\nHost: docker\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      *why = "cannot send the logs request to the engine";
      return false;
    }
    if (!readHead(why)) return false;
    thread_ = std::thread([this] { run(); });
    return true;
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool complete() const { return done_.load(); }
  // After stop(): the samples, the first order violation ("" if none), lines/s of the container.
  std::vector<double>& samplesMs() { return samplesMs_; }
  const std::string& error() const { return error_; }
  uint64_t received() const { return next_; }
  double linesPerSecond() const {
    return next_ > 1 && lastTs_ > firstTs_
               ? static_cast<double>(next_ - 1) * 1e9 / static_cast<double>(lastTs_ - firstTs_)
               : 0;
  }

 private:
  bool readHead(std::string* why) {
    auto deadline = Clock::now() + 10s;
    char chunk[4096];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) break;
      buf_.append(chunk, static_cast<size_t>(n));
      size_t end = buf_.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      if (buf_.compare(0, 9, "HTTP/1.0 ") != 0 && buf_.compare(0, 9, "HTTP/1.1 ") != 0) break;
      if (buf_.compare(9, 3, "200") != 0) {
        *why = "engine logs request: " + buf_.substr(0, buf_.find('\r'));
        return false;
      }
      buf_.erase(0, end + 4);
      return true;
    }
    *why = "no response head from the engine's logs endpoint";
    return false;
  }

  void run() {
    char chunk[65536];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      int64_t now = zc::bench::realtimeNs();
      if (n <= 0) break;
      buf_.append(chunk, static_cast<size_t>(n));
      decodeFrames(now);
    }
  }

  // 8-byte header: stream (1 stdout, 2 stderr), 3 zero bytes, big-endian payload size.
  void decodeFrames(int64_t now) {
    size_t pos = 0;
    while (buf_.size() - pos >= 8) {
      const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos);
      size_t size = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
      if (buf_.size() - pos - 8 < size) break;
      onMessage(std::string_view(buf_.data() + pos + 8, size), now);
      pos += 8 + size;
    }
    buf_.erase(0, pos);
  }

  // "<RFC3339Nano> line <i> ...\n" (one line per message at these sizes).
  void onMessage(std::string_view m, int64_t now) {
    size_t sp = m.find(' ');
    int64_t ts = 0;
    if (sp == std::string_view::npos || !parseRfc3339Ns(m.substr(0, sp), &ts)) {
      if (error_.empty()) error_ = "engine message without a timestamp";
      return;
    }
    int64_t i = lineIndex(m.substr(sp + 1));
    if (i != static_cast<int64_t>(next_)) {
      if (error_.empty()) error_ = "engine follower: expected line " + std::to_string(next_);
      return;
    }
    if (next_ == 0) firstTs_ = ts;
    lastTs_ = ts;
    samplesMs_.push_back(static_cast<double>(now - ts) / 1e6);
    if (++next_ == expected_) done_ = true;
  }

  const uint64_t expected_;
  int fd_ = -1;
  std::string buf_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  uint64_t next_ = 0;  // index of the next "line <i>"
  int64_t firstTs_ = 0, lastTs_ = 0;
  std::vector<double> samplesMs_;
  std::string error_;
};

// ---------------------------------------------------------------------------------------------
// The SSE clients: N streams on one epoll loop, run by the calling thread.

// When the bytes of an event were handed to the client: the kernel's receive timestamp of the
// socket, and the moment the client read them and parsed the event (CLOCK_REALTIME ns).
struct Stamps {
  int64_t arrived = 0;
  int64_t parsed = 0;
};

struct SseClient {
  int fd = -1;
  std::string buf;
  bool headSeen = false;
  bool ready = false;           // first `event: status` received
  bool complete = false;        // every line received
  Clock::time_point retryAt{};  // refused: reopen at
  int refusals = 0;
  uint64_t lastLineNo = 0;
  uint64_t next = 0;  // index of the next "line <i>"
  std::string error;  // first problem, "" if none
};

class SseFleet {
 public:
  SseFleet(uint16_t port, const std::string& id, size_t clients, uint64_t lines)
      : port_(port),
        request_("GET /api/deployments/" + id +
                 "/logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"),
        expected_(lines),
        clients_(clients),
        ep_(::epoll_create1(EPOLL_CLOEXEC)),
        tsNs_(lines, 0),
        firstNs_(lines, 0),
        lastNs_(lines, 0) {
    samplesMs_.reserve(clients * lines);
    arrivedMs_.reserve(clients * lines);
  }
  ~SseFleet() {
    for (auto& c : clients_) closeClient(c);
    if (ep_ >= 0) ::close(ep_);
  }

  // Opens the streams in waves of kWave, each wave ready (first event received) before the next.
  bool open(Clock::time_point deadline, std::string* why) {
    for (size_t base = 0; base < clients_.size(); base += kWave) {
      size_t end = std::min(clients_.size(), base + kWave);
      for (size_t i = base; i < end; ++i) {
        if (!connectClient(i)) {
          *why = "cannot connect SSE client " + std::to_string(i);
          return false;
        }
      }
      while (ready_ < end) {
        if (Clock::now() >= deadline) {
          *why = std::to_string(ready_) + " of " + std::to_string(clients_.size()) +
                 " SSE streams ready before the deadline";
          return false;
        }
        if (!pollOnce(20, why)) return false;
      }
    }
    return true;
  }

  // Runs the loop until every client has every line and `alsoDone()`, or `giveUp()`.
  bool runUntilComplete(const std::function<bool()>& alsoDone,
                        const std::function<bool()>& giveUp) {
    std::string why;
    while (!giveUp()) {
      if (complete_ == clients_.size() && alsoDone()) return true;
      if (!pollOnce(50, &why)) return false;
    }
    return false;
  }

  std::vector<double>& samplesMs() { return samplesMs_; }
  // The same, from the kernel's receive timestamp of the client socket (SO_TIMESTAMPNS): what the
  // collector delivered, without the time the one-thread client took to get to that socket.
  std::vector<double>& arrivedMs() { return arrivedMs_; }
  // Per line: latency to the first client that received it, and the spread first -> last client
  // (the fan-out), in ms.
  std::vector<double> firstClientMs() const {
    std::vector<double> v;
    for (size_t i = 0; i < firstNs_.size(); ++i) {
      if (firstNs_[i] != 0) v.push_back(static_cast<double>(firstNs_[i] - tsNs_[i]) / 1e6);
    }
    return v;
  }
  std::vector<double> spreadMs() const {
    std::vector<double> v;
    for (size_t i = 0; i < firstNs_.size(); ++i) {
      if (firstNs_[i] != 0) v.push_back(static_cast<double>(lastNs_[i] - firstNs_[i]) / 1e6);
    }
    return v;
  }
  size_t refusals() const { return refusals_; }
  size_t completeClients() const { return complete_; }

  // "" when every client got every line exactly once, in order; else the first problem.
  std::string verify() const {
    size_t incomplete = 0;
    for (size_t i = 0; i < clients_.size(); ++i) {
      const SseClient& c = clients_[i];
      if (!c.error.empty()) return "client " + std::to_string(i) + ": " + c.error;
      incomplete += c.next != expected_;
    }
    if (incomplete == 0) return "";
    return std::to_string(incomplete) + " of " + std::to_string(clients_.size()) +
           " clients did not receive every line";
  }

 private:
  bool connectClient(size_t i) {
    SseClient& c = clients_[i];
    int refusals = c.refusals;
    c = SseClient();
    c.refusals = refusals;
    c.fd = zc::testing::connectLoopback(port_);
    if (c.fd < 0) return false;
    if (::send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request_.size())) {
      return false;
    }
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    int on = 1;
    ::setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    return ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) == 0;
  }

  static void closeClient(SseClient& c) {
    if (c.fd >= 0) ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
  }

  // One epoll_wait round, then the refused clients whose retry time has come. False on a fatal
  // problem (a client refused too often, cannot reconnect).
  bool pollOnce(int timeoutMs, std::string* why) {
    epoll_event evs[512];
    int n = ::epoll_wait(ep_, evs, 512, timeoutMs);
    for (int k = 0; k < n; ++k) onReadable(evs[k].data.u64);
    auto now = Clock::now();
    for (size_t i = 0; i < clients_.size(); ++i) {
      SseClient& c = clients_[i];
      if (c.fd >= 0 || c.retryAt == Clock::time_point{} || now < c.retryAt) continue;
      if (c.refusals > kMaxRefusals) {
        *why = "SSE client " + std::to_string(i) + " refused " + std::to_string(c.refusals) +
               " times (the collector's stream cap, SseOptions::maxClients, is 1024 by default)";
        return false;
      }
      if (!connectClient(i)) {
        *why = "cannot reconnect SSE client " + std::to_string(i);
        return false;
      }
    }
    return true;
  }

  void onReadable(size_t i) {
    SseClient& c = clients_[i];
    Stamps at;
    bool eof = false;
    while (true) {
      ssize_t r = receive(c, &at.arrived);
      if (r > 0) continue;
      eof = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
      break;
    }
    at.parsed = zc::bench::realtimeNs();
    if (at.arrived == 0) at.arrived = at.parsed;
    if (!c.headSeen && eof && c.buf.find("\r\n\r\n") == std::string::npos) {
      return refuse(c);  // closed before answering (a full accept queue): retry
    }
    if (!c.headSeen && !parseHead(c)) return;
    if (c.headSeen) parseEvents(c, at);
    if (eof && c.fd >= 0) {
      closeClient(c);
      if (!c.complete && c.error.empty()) c.error = "stream closed by the collector";
    }
  }

  // One recvmsg into c.buf; *arrived = the kernel's receive time of the last segment read.
  static ssize_t receive(SseClient& c, int64_t* arrived) {
    char chunk[65536];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec iov{chunk, sizeof chunk};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t r = ::recvmsg(c.fd, &msg, 0);
    if (r <= 0) return r;
    c.buf.append(chunk, static_cast<size_t>(r));
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        *arrived = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
      }
    }
    return r;
  }

  // The response head: a non-200 (503 at the cap or a full accept queue) is retried later.
  bool parseHead(SseClient& c) {
    size_t end = c.buf.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    if (c.buf.size() < 12 || c.buf.compare(9, 3, "200") != 0) {
      refuse(c);
      return false;
    }
    c.headSeen = true;
    c.buf.erase(0, end + 4);
    return true;
  }

  void refuse(SseClient& c) {
    closeClient(c);
    ++c.refusals;
    ++refusals_;
    c.retryAt = Clock::now() + kRetryDelay;
  }

  // Complete events ("...\n\n") in c.buf.
  void parseEvents(SseClient& c, const Stamps& at) {
    size_t pos = 0, end;
    while ((end = c.buf.find("\n\n", pos)) != std::string::npos) {
      std::string_view block(c.buf.data() + pos, end - pos);
      pos = end + 2;
      if (block.rfind("event: log\n", 0) == 0) {
        onLog(c, block, at);
      } else if (block.rfind("event: status\n", 0) == 0 && !c.ready) {
        c.ready = true;
        ++ready_;
      }
    }
    c.buf.erase(0, pos);
  }

  // "event: log\nid: <lineNo>\ndata: {"lineNo":..,"stream":..,"ts":"..","text":".."}"
  void onLog(SseClient& c, std::string_view block, const Stamps& at) {
    size_t idp = block.find("\nid: ");
    size_t tsp = block.find("\"ts\":\"");
    size_t txp = block.find("\"text\":\"");
    if (idp == std::string_view::npos || tsp == std::string_view::npos ||
        txp == std::string_view::npos) {
      return fail(c, "malformed log event");
    }
    uint64_t lineNo = std::strtoull(block.data() + idp + 5, nullptr, 10);
    if (c.lastLineNo != 0 && lineNo != c.lastLineNo + 1) {
      return fail(c, "lineNo " + std::to_string(lineNo) + " after " + std::to_string(c.lastLineNo));
    }
    c.lastLineNo = lineNo;
    int64_t i = lineIndex(block.substr(txp + 8));
    if (i < 0) return;  // a system line: numbered with the others, not one of ours
    if (i != static_cast<int64_t>(c.next)) {
      return fail(
          c, "line " + std::to_string(i) + " where " + std::to_string(c.next) + " was expected");
    }
    size_t tsEnd = block.find('"', tsp + 6);
    int64_t ts = 0;
    if (tsEnd == std::string_view::npos ||
        !parseRfc3339Ns(block.substr(tsp + 6, tsEnd - tsp - 6), &ts))
      return fail(c, "bad ts");
    samplesMs_.push_back(static_cast<double>(at.parsed - ts) / 1e6);
    arrivedMs_.push_back(static_cast<double>(at.arrived - ts) / 1e6);
    if (firstNs_[c.next] == 0) {
      firstNs_[c.next] = at.parsed;
      tsNs_[c.next] = ts;
    }
    lastNs_[c.next] = at.parsed;
    if (++c.next == expected_) {
      c.complete = true;
      ++complete_;
    }
  }

  static void fail(SseClient& c, const std::string& why) {
    if (c.error.empty()) c.error = why;
  }

  const uint16_t port_;
  const std::string request_;
  const uint64_t expected_;
  std::vector<SseClient> clients_;
  int ep_;
  size_t ready_ = 0;
  size_t complete_ = 0;
  size_t refusals_ = 0;
  std::vector<double> samplesMs_;
  std::vector<double> arrivedMs_;
  std::vector<int64_t> tsNs_, firstNs_, lastNs_;  // per line index
};

// ---------------------------------------------------------------------------------------------
// One scenario

struct Outcome {
  std::string failure;  // "" when measured and verified
  std::vector<double> sseMs, engineMs;
  std::vector<double> arrivedMs;                // SSE, from the socket's receive timestamp
  std::vector<double> firstClientMs, spreadMs;  // per line: to the first client; first -> last
  double linesPerSecond = 0;
  double openSeconds = 0;
  size_t refusals = 0;
  zc::bench::ProcStatus idle, after;
  double collectorCpuPct = 0, benchCpuPct = 0;
  double collectorSwitchesPerLine = 0;  // context switches of all its threads / lines
  double hubRejected = 0, hubDropped = 0;
};

std::string scenarioName(size_t clients) {
  return "container → SSE, " + zc::bench::withCommas(clients) +
         (clients == 1 ? " client" : " clients");
}

Outcome runScenario(size_t clients, uint64_t lines, int pauseUs, const std::string& tag) {
  Outcome o;
  Daemon daemon;
  if (!daemon.start(&o.failure)) return o;

  const std::string id = "e2e" + tag + "-" + std::to_string(clients);
  Container container;
  if (!container.start("zynd-" + id, lines, pauseUs, &o.failure)) return o;
  if (!zc::testing::waitFor([&] { return daemon.deploymentRunning(id); }, 30s, 50ms)) {
    o.failure = "the collector did not list deployment " + id + " as running";
    return o;
  }
  std::this_thread::sleep_for(500ms);  // let its follow open

  SseFleet fleet(daemon.port(), id, clients, lines);
  auto open0 = Clock::now();
  if (!fleet.open(open0 + 30s + clients * 50ms, &o.failure)) return o;
  o.openSeconds = seconds(Clock::now() - open0);
  o.refusals = fleet.refusals();
  std::this_thread::sleep_for(300ms);
  o.idle = zc::bench::procStatus(daemon.pid());

  EngineFollower follower(lines);
  if (!follower.start(container.id(), &o.failure)) return o;

  double cpuDaemon0 = zc::bench::cpuSeconds(daemon.pid()),
         cpuSelf0 = zc::bench::cpuSeconds(::getpid());
  uint64_t switches0 = contextSwitches(daemon.pid());
  auto run0 = Clock::now();
  if (!container.go()) {
    o.failure = "cannot create the go file";
    return o;
  }
  // Bounded twice: the writer has kMaxWrite to print its lines (it is slow on a busy machine),
  // then the clients have kDrainGrace after its last line reached the plain follower.
  Clock::time_point written{};
  auto giveUp = [&] {
    auto now = Clock::now();
    if (written == Clock::time_point{} && follower.complete()) written = now;
    return written == Clock::time_point{} ? now > run0 + kMaxWrite : now > written + kDrainGrace;
  };
  bool done = fleet.runUntilComplete([&] { return follower.complete(); }, giveUp);
  double runSec = seconds(Clock::now() - run0);
  o.collectorCpuPct = 100 * (zc::bench::cpuSeconds(daemon.pid()) - cpuDaemon0) / runSec;
  o.benchCpuPct = 100 * (zc::bench::cpuSeconds(::getpid()) - cpuSelf0) / runSec;
  o.collectorSwitchesPerLine =
      static_cast<double>(contextSwitches(daemon.pid()) - switches0) / static_cast<double>(lines);
  o.after = zc::bench::procStatus(daemon.pid());
  follower.stop();
  std::string m = daemon.metrics();
  o.hubRejected = metricSum(m, "zynd_collector_sse_streams_rejected_total");
  o.hubDropped = metricSum(m, "zynd_collector_sse_streams_dropped_total");

  o.sseMs = std::move(fleet.samplesMs());
  o.arrivedMs = std::move(fleet.arrivedMs());
  o.firstClientMs = fleet.firstClientMs();
  o.spreadMs = fleet.spreadMs();
  o.engineMs = std::move(follower.samplesMs());
  o.linesPerSecond = follower.linesPerSecond();
  if (!follower.error().empty()) {
    o.failure = follower.error();
  } else if (!follower.complete()) {
    o.failure =
        "the container wrote " + std::to_string(follower.received()) + " of " +
        std::to_string(lines) + " lines in " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kMaxWrite).count()) + " s";
  } else if (std::string bad = fleet.verify(); !bad.empty()) {
    o.failure = bad + " (" + std::to_string(fleet.completeClients()) + " of " +
                std::to_string(clients) + " clients complete " +
                std::to_string(kDrainGrace.count()) + " s after the container's last line)";
  } else if (!done) {
    o.failure = "the SSE loop stopped early";
  }
  return o;
}

void report(Report& rep, size_t clients, uint64_t lines, Outcome& o) {
  const std::string scenario = scenarioName(clients);
  double sseMax = o.sseMs.empty() ? 0 : *std::max_element(o.sseMs.begin(), o.sseMs.end());
  double engMax = o.engineMs.empty() ? 0 : *std::max_element(o.engineMs.begin(), o.engineMs.end());
  double sse50 = zc::bench::quantile(o.sseMs, 0.50), sse99 = zc::bench::quantile(o.sseMs, 0.99);
  double eng50 = zc::bench::quantile(o.engineMs, 0.50);
  double eng99 = zc::bench::quantile(o.engineMs, 0.99);
  std::printf(
      "%s: %lu lines at %.0f lines/s; SSE p50 %.2f p99 %.2f max %.2f ms (%zu samples) | engine "
      "p50 %.2f p99 %.2f max %.2f ms\n",
      scenario.c_str(), static_cast<unsigned long>(lines), o.linesPerSecond, sse50, sse99, sseMax,
      o.sseMs.size(), eng50, eng99, engMax);
  std::printf(
      "  streams open in %.2f s (%zu refusals retried); collector RSS %ld MiB idle with the "
      "streams, %ld MiB after, peak %ld MiB, threads %ld; CPU during the run: collector %.0f%%, "
      "bench %.0f%% of one core; collector context switches %.0f per line; hub rejected %.0f "
      "dropped %.0f\n",
      o.openSeconds, o.refusals, o.idle.rssKb / 1024, o.after.rssKb / 1024, o.after.hwmKb / 1024,
      o.after.threads, o.collectorCpuPct, o.benchCpuPct, o.collectorSwitchesPerLine, o.hubRejected,
      o.hubDropped);
  std::printf("  SSE at socket arrival (kernel receive timestamp): p50 %.2f p99 %.2f ms\n",
              zc::bench::quantile(o.arrivedMs, 0.5), zc::bench::quantile(o.arrivedMs, 0.99));
  if (clients > 1) {
    std::printf(
        "  per line: to the first client p50 %.2f p99 %.2f ms; fan-out first -> last client p50 "
        "%.2f p99 %.2f ms\n",
        zc::bench::quantile(o.firstClientMs, 0.5), zc::bench::quantile(o.firstClientMs, 0.99),
        zc::bench::quantile(o.spreadMs, 0.5), zc::bench::quantile(o.spreadMs, 0.99));
  }
  std::fflush(stdout);
  if (!o.failure.empty()) {
    rep.fail(kSection, scenario, o.failure);
    return;
  }
  char note[256];
  std::snprintf(note, sizeof note, "%.0f lines/s written, %zu SSE samples, %zu engine samples",
                o.linesPerSecond, o.sseMs.size(), o.engineMs.size());
  rep.add(Figure{kSection, scenario, "p50", "ms", sse50, kBaseline, eng50, Better::kLower, note});
  rep.add(Figure{kSection, scenario, "p99", "ms", sse99, kBaseline, eng99, Better::kLower, note});
}

// ---------------------------------------------------------------------------------------------

bool parseClients(const std::string& list, std::vector<size_t>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = std::min(list.find(',', pos), list.size());
    std::string item = list.substr(pos, comma - pos);
    char* end = nullptr;
    unsigned long n = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || n < 1 || n > kMaxClients) return false;
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
  uint64_t lines = rep.smoke() ? 200 : 2000;
  int pauseUs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--clients" && i + 1 < argc && parseClients(argv[i + 1], &clients)) {
      ++i;
    } else if (a == "--lines" && i + 1 < argc && std::atoll(argv[i + 1]) > 0) {
      lines = std::min<uint64_t>(std::strtoull(argv[++i], nullptr, 10), 20000);
    } else if (a == "--pause-us" && i + 1 < argc) {
      pauseUs = std::clamp(std::atoi(argv[++i]), 0, 1000000);
    } else {
      std::fprintf(stderr,
                   "usage: bench_e2e [--clients 1,100,1000] [--lines 2000] [--pause-us 0] "
                   "[--smoke] [--report FILE]\n");
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
  std::printf("bench_e2e: container -> SSE latency vs. a plain engine follower, %lu lines each\n",
              static_cast<unsigned long>(lines));
  std::fflush(stdout);
  for (size_t n : clients) {
    Outcome o = runScenario(n, lines, pauseUs, tag);
    report(rep, n, lines, o);
  }
  return rep.failures() == 0 ? 0 : 1;
}
