#include "sse_clients.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bench_support.h"
#include "http_test_client.h"
#include "test_support.h"

namespace zc::bench::e2e {

using namespace std::chrono_literals;

namespace {

constexpr size_t kWave = 100;        // SSE clients opened at once
constexpr int kMaxRefusals = 100;    // 503s tolerated per client while opening
constexpr auto kRetryDelay = 250ms;  // before a refused client tries again
constexpr size_t kTailKeep = 4096;   // bytes a discarding client keeps
constexpr size_t kReadBytes = 65536;

// One recvmsg; *arrived = the kernel's receive time of the last segment read.
ssize_t receiveStamped(int fd, char* into, size_t size, int64_t* arrived) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  iovec iov{into, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r = ::recvmsg(fd, &msg, 0);
  if (r <= 0) return r;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      *arrived = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
    }
  }
  return r;
}

void closeClient(SseClient& c) {
  if (c.fd >= 0) ::close(c.fd);  // also leaves the epoll set
  c.fd = -1;
}

}  // namespace

SseFleet::SseFleet(uint16_t port, const std::string& id, size_t clients, size_t sampled,
                   uint64_t lines)
    : port_(port),
      request_("GET /api/deployments/" + id +
               "/logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"),
      expected_(lines),
      lastMarker_("\"text\":\"line " + std::to_string(lines - 1) + " "),
      clients_(clients),
      ep_(::epoll_create1(EPOLL_CLOEXEC)),
      tsNs_(lines, 0),
      firstNs_(lines, 0),
      lastNs_(lines, 0) {
  sampled = std::min(sampled, clients);
  for (size_t i = 0; i < sampled; ++i) clients_[i].sampled = true;
  samplesMs_.reserve(sampled * lines);
  arrivedMs_.reserve(sampled * lines);
}

SseFleet::~SseFleet() {
  for (auto& c : clients_) closeClient(c);
  if (ep_ >= 0) ::close(ep_);
}

bool SseFleet::open(Clock::time_point deadline, std::string* why) {
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

bool SseFleet::runUntilComplete(const std::function<bool()>& alsoDone,
                                const std::function<bool()>& giveUp) {
  std::string why;
  while (!giveUp()) {
    if (complete_ == clients_.size() && alsoDone()) return true;
    if (!pollOnce(50, &why)) return false;
  }
  return false;
}

std::vector<double> SseFleet::firstClientMs() const {
  std::vector<double> v;
  for (size_t i = 0; i < firstNs_.size(); ++i) {
    if (firstNs_[i] != 0) v.push_back(static_cast<double>(firstNs_[i] - tsNs_[i]) / 1e6);
  }
  return v;
}

std::vector<double> SseFleet::spreadMs() const {
  std::vector<double> v;
  for (size_t i = 0; i < firstNs_.size(); ++i) {
    if (firstNs_[i] != 0) v.push_back(static_cast<double>(lastNs_[i] - firstNs_[i]) / 1e6);
  }
  return v;
}

std::vector<double> SseFleet::deliveredPerSecond(int64_t writeStartNs) const {
  std::vector<double> v;
  for (const SseClient& c : clients_) {
    if (c.completeNs > writeStartNs) {
      v.push_back(static_cast<double>(expected_) * 1e9 /
                  static_cast<double>(c.completeNs - writeStartNs));
    }
  }
  return v;
}

std::string SseFleet::verify() const {
  size_t incomplete = 0;
  for (size_t i = 0; i < clients_.size(); ++i) {
    const SseClient& c = clients_[i];
    if (!c.error.empty()) return "client " + std::to_string(i) + ": " + c.error;
    incomplete += !c.complete || (c.sampled && c.next != expected_);
  }
  if (incomplete == 0) return "";
  return std::to_string(incomplete) + " of " + std::to_string(clients_.size()) +
         " clients did not receive every line";
}

bool SseFleet::connectClient(size_t i) {
  SseClient& c = clients_[i];
  SseClient fresh;
  fresh.refusals = c.refusals;
  fresh.sampled = c.sampled;
  c = std::move(fresh);
  c.fd = zc::testing::connectLoopback(port_);
  if (c.fd < 0) return false;
  if (::send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request_.size())) {
    return false;
  }
  ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  if (c.sampled) {
    int on = 1;
    ::setsockopt(c.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = i;
  return ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) == 0;
}

// One epoll_wait round, then the refused clients whose retry time has come. False on a fatal
// problem (a client refused too often, cannot reconnect).
bool SseFleet::pollOnce(int timeoutMs, std::string* why) {
  epoll_event evs[512];
  int n = ::epoll_wait(ep_, evs, 512, timeoutMs);
  for (int k = 0; k < n; ++k) onReadable(evs[k].data.u64);
  if (ready_ == clients_.size()) return true;  // nothing refused is waiting
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

void SseFleet::onReadable(size_t i) {
  static char chunk[kReadBytes];  // the loop runs on one thread
  SseClient& c = clients_[i];
  const bool discarding = !c.sampled && c.ready;
  int64_t arrived = 0;
  bool eof = false;
  while (true) {
    ssize_t r = c.sampled ? receiveStamped(c.fd, chunk, sizeof chunk, &arrived)
                          : ::recv(c.fd, chunk, sizeof chunk, 0);
    if (r > 0) {
      c.buf.append(chunk, static_cast<size_t>(r));
      if (discarding && c.buf.size() > 2 * kTailKeep) c.buf.erase(0, c.buf.size() - kTailKeep);
      continue;
    }
    eof = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    break;
  }
  int64_t parsed = zc::bench::realtimeNs();
  if (arrived == 0) arrived = parsed;
  if (!c.headSeen && eof && c.buf.find("\r\n\r\n") == std::string::npos) {
    return refuse(c);  // closed before answering (a full accept queue): retry
  }
  if (!c.headSeen && !parseHead(c)) return;
  if (discarding) {
    onDiscarded(c, parsed);
  } else if (c.headSeen) {
    parseEvents(c, arrived, parsed);
  }
  if (eof && c.fd >= 0) {
    closeClient(c);
    if (!c.complete && c.error.empty()) c.error = "stream closed by the collector";
  }
}

// The response head: a non-200 (503 at the cap or a full accept queue) is retried later.
bool SseFleet::parseHead(SseClient& c) {
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

void SseFleet::refuse(SseClient& c) {
  closeClient(c);
  ++c.refusals;
  ++refusals_;
  c.retryAt = Clock::now() + kRetryDelay;
}

// Complete events ("...\n\n") in c.buf. A discarding client parses only up to its first status
// event; what follows is its tail.
void SseFleet::parseEvents(SseClient& c, int64_t arrived, int64_t parsed) {
  size_t pos = 0, end;
  while ((end = c.buf.find("\n\n", pos)) != std::string::npos) {
    std::string_view block(c.buf.data() + pos, end - pos);
    pos = end + 2;
    if (block.rfind("event: log\n", 0) == 0) {
      if (c.sampled) onLog(c, block, arrived, parsed);
    } else if (block.rfind("event: status\n", 0) == 0 && !c.ready) {
      c.ready = true;
      ++ready_;
      if (!c.sampled) break;
    }
  }
  c.buf.erase(0, pos);
  if (!c.sampled && c.ready) onDiscarded(c, parsed);
}

// "event: log\nid: <lineNo>\ndata: {"lineNo":..,"stream":..,"ts":"..","text":".."}"
void SseFleet::onLog(SseClient& c, std::string_view block, int64_t arrived, int64_t parsed) {
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
    return fail(c,
                "line " + std::to_string(i) + " where " + std::to_string(c.next) + " was expected");
  }
  size_t tsEnd = block.find('"', tsp + 6);
  int64_t ts = 0;
  if (tsEnd == std::string_view::npos ||
      !parseRfc3339Ns(block.substr(tsp + 6, tsEnd - tsp - 6), &ts)) {
    return fail(c, "bad ts");
  }
  samplesMs_.push_back(static_cast<double>(parsed - ts) / 1e6);
  arrivedMs_.push_back(static_cast<double>(arrived - ts) / 1e6);
  if (firstNs_[c.next] == 0) {
    firstNs_[c.next] = parsed;
    tsNs_[c.next] = ts;
  }
  lastNs_[c.next] = parsed;
  if (++c.next == expected_) markComplete(c, parsed);
}

void SseFleet::onDiscarded(SseClient& c, int64_t parsed) {
  if (!c.complete && c.buf.find(lastMarker_) != std::string::npos) markComplete(c, parsed);
  if (c.buf.size() > kTailKeep) c.buf.erase(0, c.buf.size() - kTailKeep);
}

void SseFleet::markComplete(SseClient& c, int64_t at) {
  c.complete = true;
  c.completeNs = at;
  ++complete_;
}

void SseFleet::fail(SseClient& c, const std::string& why) {
  if (c.error.empty()) c.error = why;
}

}  // namespace zc::bench::e2e
