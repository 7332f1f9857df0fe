// The baseline of bench_e2e: a plain follower of a container's log on the engine socket, in its
// own thread, decoding the 8-byte multiplexed frame headers. The latency of a line is the moment
// its bytes were read minus its engine timestamp: the engine's own delivery latency, the floor for
// anything that reads through the Engine API.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "e2e_common.h"
#include "test_support.h"

namespace zc::bench::e2e {

using namespace std::chrono_literals;

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
}  // namespace zc::bench::e2e
