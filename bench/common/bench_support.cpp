#include "bench_support.h"

#include <Poco/JSON/Parser.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include "collector_process.h"
#include "test_support.h"

namespace zc::bench {

int64_t realtimeNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int docker(const std::string& args, std::string* out) {
  return zc::testing::runCommand(
      "/usr/bin/docker " + args + (out ? " 2>/dev/null" : " >/dev/null 2>&1"), out);
}

std::string uniqueTag() {
  static std::mt19937 rng(std::random_device{}());
  return std::to_string(rng() % 1000000);
}

uint64_t engineGet(const std::string& target, std::string* body) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", zc::testing::dockerSocketPath().c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return 0;
  }
  static thread_local std::vector<char> buf(1 << 16);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
    if (body) body->append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return total;
}

Poco::JSON::Object::Ptr healthz(uint16_t port) {
  std::string body;
  if (zc::testing::httpGet(port, "/healthz", &body) != 200) return nullptr;
  try {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

void parallelFor(size_t n, size_t parallelism, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (size_t w = 0; w < std::min(n, parallelism); ++w) {
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  }
  for (auto& t : workers) t.join();
}

bool raiseFileLimit(size_t needed) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  const rlim_t want = static_cast<rlim_t>(needed);
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur >= want) return true;
  std::fprintf(stderr, "RLIMIT_NOFILE %llu is below the %llu needed\n",
               static_cast<unsigned long long>(rl.rlim_cur), static_cast<unsigned long long>(want));
  return false;
}

pid_t dockerdPid() {
  for (const char* file : {"/var/run/docker.pid", "/tmp/zc-dockerd.pid"}) {
    std::ifstream in(file);
    pid_t pid = 0;
    if (in >> pid && pid > 0 && ::kill(pid, 0) == 0) return pid;
  }
  return 0;
}

}  // namespace zc::bench
