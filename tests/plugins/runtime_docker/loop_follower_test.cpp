// The follow loop against a scripted fake engine: responses that arrive in pieces (the head byte
// by byte, chunk headers and frames cut anywhere, pauses between), a consumer that holds its
// storage write (only its own follow waits), and stop() while consume() runs.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "docker_runtime.h"
#include "engine_test_support.h"
#include "fake_engine.h"
#include "test_support.h"
#include "zc/clock.h"

namespace zc::docker::testing {
namespace {

using namespace std::chrono_literals;
using plugin::ContainerInfo;

std::string ts(int sec, int ns = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-01-01T00:00:%02d.%09dZ ", sec, ns);
  return buf;
}

std::string inspectJson(const std::string& id, bool running) {
  return R"({"Id":")" + id + R"(","Name":"/zynd-)" + id + R"(","State":{"Running":)" +
         (running ? "true" : "false") +
         R"(,"Restarting":false,"ExitCode":0,"StartedAt":"2026-01-01T00:00:00Z",)"
         R"("FinishedAt":"2026-01-01T00:00:30Z"},"Config":{"Tty":false,"Labels":{}},"HostConfig":{}})";
}

ContainerInfo container(const std::string& id) {
  ContainerInfo c;
  c.deploymentId = id;
  c.containerId = id;
  c.name = "zynd-" + id;
  c.running = true;
  return c;
}

bool isLogs(const FakeRequest& r, const std::string& id) {
  return r.target.rfind("/v1.41/containers/" + id + "/logs", 0) == 0;
}

struct Runtime {
  Runtime(FakeEngine& engine, std::map<std::string, std::string> extra = {}) {
    plugin::PluginContext ctx;
    ctx.options = {{"socket", engine.socketPath()},
                   {"stall_timeout", "2s"},
                   {"restart_grace", "50ms"},
                   {"request_timeout", "3s"}};
    for (auto& [k, v] : extra) ctx.options[k] = v;
    ctx.logger = &log;
    ctx.clock = &systemClock();
    runtime = std::make_unique<DockerRuntime>();
    Status configured = runtime->configure(ctx);
    if (!configured.isOk()) ADD_FAILURE() << configured.toString();
  }
  StderrLogger log;
  std::unique_ptr<DockerRuntime> runtime;
};

TEST(LoopFollowerTest, AResponseInPiecesWithPausesGivesEveryLineOnce) {
  zc::testing::TempDir dir;
  std::string body;
  for (int i = 0; i < 20; ++i) {
    body += FakeEngine::frame(1 + i % 2, ts(1, i) + "line " + std::to_string(i) + "\n");
  }
  FakeEngine engine(dir.path(), [&](const FakeRequest& r, FakeConnection& c) {
    if (!isLogs(r, "pieces")) return (void)c.respond(200, inspectJson("pieces", false));
    if (r.index > 0) {  // the read after the end: nothing new
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n"
        "Transfer-Encoding: chunked\r\n\r\n";
    for (char ch : head) {  // the head byte by byte
      c.write(std::string(1, ch));
      std::this_thread::sleep_for(1ms);
    }
    // HTTP chunks of 13 bytes, each written in two pieces cut inside the chunk-size line, then
    // inside the data: every boundary falls somewhere else in the frames.
    for (size_t pos = 0; pos < body.size(); pos += 13) {
      std::string data = body.substr(pos, 13);
      char hex[16];
      std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
      std::string piece = hex + data + "\r\n";
      size_t cut = 1 + pos % (piece.size() - 1);
      c.write(piece.substr(0, cut));
      std::this_thread::sleep_for(2ms);
      c.write(piece.substr(cut));
    }
    c.write("0\r\n");
    std::this_thread::sleep_for(2ms);
    c.write("\r\n");
  });
  Runtime rt(engine);
  RecordingConsumer consumer;
  auto sub = rt.runtime->followLogs(container("pieces"), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(15s));
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  std::vector<std::string> out, err;
  for (int i = 0; i < 20; ++i) (i % 2 ? err : out).push_back("line " + std::to_string(i));
  EXPECT_EQ(consumer.texts(LogStream::kStdout), out);
  EXPECT_EQ(consumer.texts(LogStream::kStderr), err);
}

// Holds consume() until released; counts chunks.
class GateConsumer : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& chunk) noexcept override {
    entered_.store(true);
    gate_.wait();
    lines_ += chunk.lines.size();
    return true;
  }
  void ended(Status why) noexcept override {
    std::lock_guard<std::mutex> lock(mu_);
    ++endedCalls_;
    end_ = why;
  }
  void release() { open_.set_value(); }
  bool entered() const { return entered_.load(); }
  size_t lines() const { return lines_.load(); }
  int endedCalls() {
    std::lock_guard<std::mutex> lock(mu_);
    return endedCalls_;
  }
  Status endStatus() {
    std::lock_guard<std::mutex> lock(mu_);
    return end_;
  }

 private:
  std::promise<void> open_;
  std::shared_future<void> gate_ = open_.get_future().share();
  std::atomic<bool> entered_{false};
  std::atomic<size_t> lines_{0};
  std::mutex mu_;
  int endedCalls_ = 0;
  Status end_;
};

TEST(LoopFollowerTest, AHeldConsumerHoldsOnlyItsOwnFollow) {
  zc::testing::TempDir dir;
  std::atomic<bool> stopFeeding{false};
  FakeEngine engine(dir.path(), [&](const FakeRequest& r, FakeConnection& c) {
    if (isLogs(r, "held") || isLogs(r, "free")) {
      c.startChunked(200);
      for (int i = 0; i < 400 && !stopFeeding; ++i) {
        if (!c.chunk(FakeEngine::frame(1, ts(1, i) + "l" + std::to_string(i) + "\n"))) return;
        std::this_thread::sleep_for(5ms);
      }
      return c.hangUntilClosed();
    }
    c.respond(200, inspectJson(r.target.find("held") != std::string::npos ? "held" : "free", true));
  });
  // Two workers: the held consume takes one, the other follow goes on on the other.
  Runtime rt(engine, {{"follow_threads", "2"}});
  GateConsumer held;
  RecordingConsumer other;
  auto a = rt.runtime->followLogs(container("held"), "", &held);
  auto b = rt.runtime->followLogs(container("free"), "", &other);
  ASSERT_TRUE(a.isOk() && b.isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return held.entered(); }, 5s));
  size_t before = other.lineCount();
  ASSERT_TRUE(other.waitLines(before + 50, 10s)) << "the other follow must go on";
  EXPECT_EQ(held.lines(), 0u);
  // stop() from another thread while consume() runs: waits for it, then ends Aborted, once.
  auto stopper = std::async(std::launch::async, [&] { a.value()->stop(); });
  EXPECT_EQ(stopper.wait_for(300ms), std::future_status::timeout);
  held.release();
  ASSERT_EQ(stopper.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(held.endedCalls(), 1);
  EXPECT_EQ(held.endStatus().code(), Status::Code::kAborted);
  stopFeeding = true;
  b.value()->stop();
  EXPECT_EQ(other.endStatus().code(), Status::Code::kAborted);
}

TEST(LoopFollowerTest, StopFromInsideConsumeEndsTheFollowAfterIt) {
  zc::testing::TempDir dir;
  FakeEngine engine(dir.path(), [&](const FakeRequest& r, FakeConnection& c) {
    if (isLogs(r, "self")) {
      c.startChunked(200);
      c.chunk(FakeEngine::frame(1, ts(1) + "one\n"));
      return c.hangUntilClosed();
    }
    c.respond(200, inspectJson("self", true));
  });
  Runtime rt(engine);
  struct StopInside : RecordingConsumer {
    plugin::Subscription* sub = nullptr;
    std::atomic<bool> returned{false};
    bool consume(plugin::LogChunk&& chunk) noexcept override {
      bool r = RecordingConsumer::consume(std::move(chunk));
      while (sub == nullptr) std::this_thread::sleep_for(1ms);
      sub->stop();  // must return at once on the follow's own thread
      returned = true;
      return r;
    }
  } consumer;
  auto s = rt.runtime->followLogs(container("self"), "", &consumer);
  ASSERT_TRUE(s.isOk());
  consumer.sub = s.value().get();
  ASSERT_TRUE(consumer.waitEnded(5s));
  EXPECT_TRUE(consumer.returned.load());
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
  EXPECT_EQ(consumer.endedCalls(), 1);
  s.value()->stop();
}

}  // namespace
}  // namespace zc::docker::testing
