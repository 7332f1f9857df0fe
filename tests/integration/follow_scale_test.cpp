// The follow contract at scale, through the whole daemon at its default options and the real
// Docker engine: 200 followed and sampled containers share the runtime's follow loop (a fixed
// set of threads) and the metrics task (one thread, every request in flight at once), at most
// 40 threads in all, and every line of every container is stored once, in order, lineNos
// contiguous. The containers are made through the Engine API, 16 requests in flight (the engine's
// own pace is the limit), and the stores are read back in one open of the store.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "docker_fixture.h"
#include "zc/clock.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

// Threads of process `pid` (its /proc status), 0 when unreadable.
int threadsOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return 0;
}

// The number after `"key":` in /healthz, -1 when missing.
double healthzNumber(uint16_t port, const std::string& key) {
  std::string body;
  if (httpGet(port, "/healthz", &body) != 200) return -1;
  auto at = body.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::atof(body.c_str() + at + key.size() + 3);
}

int healthzFollows(uint16_t port) { return static_cast<int>(healthzNumber(port, "follows")); }

// One request to the Engine API on the test socket (HTTP/1.0: the engine answers and closes);
// the status, -1 when the socket fails, the body in *body.
int engineRequest(const std::string& method, const std::string& path, const std::string& json,
                  std::string* body = nullptr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", dockerSocketPath().c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  // A stuck engine fails the request after 60 s instead of holding the test until its timeout
  // (and its containers with it).
  timeval limit{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: docker\r\n";
  if (!json.empty()) {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
           "\r\n";
  }
  req += "\r\n" + json;
  std::string resp;
  bool sent = true;
  for (size_t off = 0; sent && off < req.size();) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    sent = n > 0;
    if (sent) off += static_cast<size_t>(n);
  }
  char buf[4096];
  for (ssize_t n; sent && (n = ::read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, n);
  ::close(fd);
  // "HTTP/1.x NNN ..."
  if (resp.size() < 12 || resp.compare(0, 5, "HTTP/") != 0) return -1;
  if (body) {
    auto at = resp.find("\r\n\r\n");
    *body = at == std::string::npos ? "" : resp.substr(at + 4);
  }
  return std::atoi(resp.c_str() + 9);
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Containers made and removed in bulk through the Engine API (create and start, `parallel`
// requests in flight; one `docker` call removes them all), all carrying `label` (KEY=VALUE).
class Fleet {
 public:
  explicit Fleet(std::string label) : label_(std::move(label)) {}
  ~Fleet() { removeAll(); }
  // Creates and starts `n` containers named zynd-<id> running `script` with sh in the test image;
  // their ids.
  std::vector<std::string> start(int n, const std::string& script, int parallel) {
    std::vector<std::string> ids(n);
    for (auto& id : ids) id = uniqueId("fs");
    const auto eq = label_.find('=');
    const std::string spec = "{\"Image\":" + jsonString(testImage()) +
                             ",\"Cmd\":[\"sh\",\"-c\"," + jsonString(script) +
                             "],\"Labels\":{\"zynd.test\":\"1\"," +
                             jsonString(label_.substr(0, eq)) + ":" +
                             jsonString(label_.substr(eq + 1)) + "}}";
    std::atomic<int> next{0}, failed{0};
    std::mutex mu;
    std::string firstError;
    std::vector<std::thread> ts;
    for (int t = 0; t < parallel; ++t) {
      ts.emplace_back([&] {
        for (int i; (i = next++) < n;) {
          const std::string name = "zynd-" + ids[i];
          std::string body;
          int created = engineRequest("POST", "/containers/create?name=" + name, spec, &body);
          int started = 0;
          if (created == 201) {
            started = engineRequest("POST", "/containers/" + name + "/start", "", &body);
          }
          if (started != 204) {
            ++failed;
            std::lock_guard lock(mu);
            if (firstError.empty()) {
              firstError = name + ": create " + std::to_string(created) + ", start " +
                           std::to_string(started) + ": " + body;
            }
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_EQ(failed.load(), 0) << firstError;
    return ids;
  }
  void killAll() { docker("kill $(/usr/bin/docker ps -q --filter label=" + label_ + ")"); }
  void removeAll() { docker("rm -f $(/usr/bin/docker ps -aq --filter label=" + label_ + ")"); }

 private:
  std::string label_;
};

class FollowScaleTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  TempDir dir_;
};

TEST_F(FollowScaleTest, TwoHundredFollowedContainersShareAFixedSetOfThreadsAndLoseNoLine) {
  constexpr int kContainers = 200;
  constexpr int kLines = 5;
  constexpr int kMaxThreads = 40;
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + 300s;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  auto secondsSince = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const std::string label = "zc.follow-scale=" + uniqueId("run");
  Fleet fleet(label);
  // Only this test's containers; every other option at its default, so the count is the
  // daemon's as shipped: the follows and the metrics task sampling all 200 (the test waits for a
  // --metrics-interval pass that sampled them).
  Collector collector(dataDir(), {"--select-label", label});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  const pid_t pid = collector.process().pid();
  const int idle = threadsOf(pid);

  std::atomic<bool> sampling{true};
  std::atomic<int> maxThreads{0};
  std::thread sampler([&] {
    while (sampling) {
      int n = threadsOf(pid);
      if (n > maxThreads) maxThreads = n;
      std::this_thread::sleep_for(50ms);
    }
  });

  // Each container writes its numbered lines at once, then stays up until killed.
  std::string script = "i=0; while [ $i -lt " + std::to_string(kLines) +
                       " ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 600";
  auto phase = std::chrono::steady_clock::now();
  std::vector<std::string> ids = fleet.start(kContainers, script, 16);
  const double startS = secondsSince(phase);
  phase = std::chrono::steady_clock::now();
  bool allFollowed =
      waitFor([&] { return healthzFollows(collector.port()) == kContainers; }, left(), 200ms);
  const double followS = secondsSince(phase);
  int followedThreads = threadsOf(pid);
  std::this_thread::sleep_for(2s);  // a few stall-free seconds with every follow open
  // A metrics pass (every 30 s) that sampled followed containers (the selected label: only this
  // test's); most often one ran while they were being started.
  phase = std::chrono::steady_clock::now();
  waitFor([&] { return healthzNumber(collector.port(), "lastSweepStored") > 0; }, left(), 250ms);
  const double metricsS = secondsSince(phase);
  const double sweeps = healthzNumber(collector.port(), "sweeps");
  const double sampled = healthzNumber(collector.port(), "lastSweepStored");
  const double sweepMs = healthzNumber(collector.port(), "lastSweepMs");
  phase = std::chrono::steady_clock::now();
  fleet.killAll();
  const double killS = secondsSince(phase);
  phase = std::chrono::steady_clock::now();
  bool drained = collector.waitDrained(left());
  const double drainS = secondsSince(phase);
  sampling = false;
  sampler.join();
  std::printf("threads: idle %d, with %d followed %d, max seen %d; metrics passes %.0f, the last "
              "stored %.0f samples in %.0f ms\n",
              idle, kContainers, followedThreads, maxThreads.load(), sweeps, sampled, sweepMs);
  ASSERT_TRUE(allFollowed) << "follows: " << healthzFollows(collector.port());
  ASSERT_TRUE(drained) << collector.process().err();
  EXPECT_LE(maxThreads.load(), kMaxThreads);
  EXPECT_GT(sampled, 0) << "no metrics pass sampled the followed containers";
  ASSERT_EQ(collector.stop(), 0);

  phase = std::chrono::steady_clock::now();
  auto stored = readStoredLinesOf(dataDir(), ids);
  for (const auto& id : ids) {
    const auto& all = stored[id];
    EXPECT_EQ(checkContiguous(all), "") << id;
    auto lines = containerLines(all);
    EXPECT_EQ(lines.size(), static_cast<size_t>(kLines)) << id;
    expectNumberedOnce(lines, LogStream::kStdout, "line ", kLines);
  }
  const double readS = secondsSince(phase);
  phase = std::chrono::steady_clock::now();
  fleet.removeAll();
  std::printf("seconds: start %.1f, all followed %.1f, metrics pass %.1f, kill %.1f, drain %.1f, "
              "read back %.1f, remove %.1f; %.1f in all\n",
              startS, followS, metricsS, killS, drainS, readS, secondsSince(phase),
              secondsSince(t0));
}

}  // namespace
}  // namespace zc::testing
