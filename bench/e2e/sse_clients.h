// bench_e2e's SSE clients: N streams of one deployment on one epoll loop, run by the calling
// thread, kept cheap so that they measure the collector and not themselves:
//   - SAMPLED clients (the first `sampled` of them) parse every event: each line's latency (from
//     its engine timestamp to the moment the client read it, and to the kernel's receive
//     timestamp of the socket), lineNo contiguity and the order of the writer's lines;
//   - the others read and discard: they keep only the last bytes of their stream, enough to see
//     the event of the writer's last line, and the moment it came.
// Every client records when its stream held the last line: the delivery rate per client.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "e2e_common.h"

namespace zc::bench::e2e {

struct SseClient {
  int fd = -1;
  bool sampled = false;
  std::string buf;              // sampled: bytes not parsed yet; others: the head, then the tail
  bool headSeen = false;
  bool ready = false;           // first `event: status` received
  bool complete = false;        // the last line received
  Clock::time_point retryAt{};  // refused: reopen at
  int refusals = 0;
  uint64_t lastLineNo = 0;
  uint64_t next = 0;            // sampled: index of the next "line <i>"
  int64_t completeNs = 0;       // CLOCK_REALTIME when the last line was read
  std::string error;            // first problem, "" if none
};

class SseFleet {
 public:
  SseFleet(uint16_t port, const std::string& id, size_t clients, size_t sampled, uint64_t lines);
  ~SseFleet();
  SseFleet(const SseFleet&) = delete;
  SseFleet& operator=(const SseFleet&) = delete;

  // Opens the streams in waves of 100, each wave ready (first event received) before the next.
  bool open(Clock::time_point deadline, std::string* why);
  // Runs the loop until every client has the last line and `alsoDone()`, or `giveUp()`.
  bool runUntilComplete(const std::function<bool()>& alsoDone,
                        const std::function<bool()>& giveUp);

  // Sampled clients, per line received: latency at the read, and at the socket's kernel receive
  // timestamp (SO_TIMESTAMPNS: without the time the one client thread took to get there), ms.
  std::vector<double>& samplesMs() { return samplesMs_; }
  std::vector<double>& arrivedMs() { return arrivedMs_; }
  // Per line, over the sampled clients: latency to the first one, spread first -> last one (ms).
  std::vector<double> firstClientMs() const;
  std::vector<double> spreadMs() const;
  // Per client that completed: lines per second from `writeStartNs` to its last line.
  std::vector<double> deliveredPerSecond(int64_t writeStartNs) const;
  size_t refusals() const { return refusals_; }
  size_t completeClients() const { return complete_; }
  // "" when every client got the last line (and every sampled client every line exactly once,
  // in order); else the first problem.
  std::string verify() const;

 private:
  bool connectClient(size_t i);
  bool pollOnce(int timeoutMs, std::string* why);
  void onReadable(size_t i);
  bool parseHead(SseClient& c);
  void refuse(SseClient& c);
  void parseEvents(SseClient& c, int64_t arrived, int64_t parsed);
  void onLog(SseClient& c, std::string_view block, int64_t arrived, int64_t parsed);
  void onDiscarded(SseClient& c, int64_t parsed);
  void markComplete(SseClient& c, int64_t at);
  static void fail(SseClient& c, const std::string& why);

  const uint16_t port_;
  const std::string request_;
  const uint64_t expected_;
  const std::string lastMarker_;  // "\"text\":\"line <expected-1> "
  std::vector<SseClient> clients_;
  int ep_;
  size_t ready_ = 0;
  size_t complete_ = 0;
  size_t refusals_ = 0;
  std::vector<double> samplesMs_;
  std::vector<double> arrivedMs_;
  std::vector<int64_t> tsNs_, firstNs_, lastNs_;  // per line index, over the sampled clients
};

}  // namespace zc::bench::e2e
