// Fault injection: the runtime against a scripted fake engine on a temporary socket.
#include <gtest/gtest.h>

#include <chrono>
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

std::string inspectJson(bool running) {
  return std::string(R"({"Id":"fakeid","Name":"/zynd-fake","State":{"Running":)") +
         (running ? "true" : "false") +
         R"(,"Restarting":false,"ExitCode":0,"StartedAt":"2026-01-01T00:00:00Z",)"
         R"("FinishedAt":"2026-01-01T00:00:30Z"},"Config":{"Tty":false,"Labels":{}},"HostConfig":{}})";
}

ContainerInfo fakeContainer() {
  ContainerInfo c;
  c.deploymentId = "fake";
  c.containerId = "fakeid";
  c.name = "zynd-fake";
  c.running = true;
  return c;
}

const std::string kLogs = "/v1.41/containers/fakeid/logs";
const std::string kInspect = "/v1.41/containers/fakeid/json";

// follow_threads of the runtimes the harness makes: the follow tests run with the follow loop
// ("4", the default) and with one thread per follow ("0").
std::string gFollowThreads = "4";

struct Harness {
  explicit Harness(FakeEngine::Handler h, std::map<std::string, std::string> extra = {})
      : engine(dir.path(), std::move(h)) {
    plugin::PluginContext ctx;
    ctx.options = {{"socket", engine.socketPath()},
                   {"stall_timeout", "300ms"},
                   {"restart_grace", "50ms"},
                   {"request_timeout", "3s"},
                   {"follow_threads", gFollowThreads}};
    for (auto& [k, v] : extra) ctx.options[k] = v;
    ctx.logger = &log;
    ctx.clock = &systemClock();
    runtime = std::make_unique<DockerRuntime>();
    Status configured = runtime->configure(ctx);
    if (!configured.isOk()) ADD_FAILURE() << configured.toString();
  }
  zc::testing::TempDir dir;
  FakeEngine engine;
  StderrLogger log;
  std::unique_ptr<DockerRuntime> runtime;
};

std::vector<std::string> allTexts(const RecordingConsumer& c) {
  std::vector<std::string> v;
  for (const auto& l : c.lines()) v.push_back(l.text);
  return v;
}

// The follow tests, once per follower: the follow loop and one thread per follow.
class FakeEngineFollowTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { gFollowThreads = GetParam(); }
  void TearDown() override { gFollowThreads = "4"; }
};
INSTANTIATE_TEST_SUITE_P(Followers, FakeEngineFollowTest, ::testing::Values("4", "0"),
                         [](const auto& info) {
                           return info.param == "0" ? std::string("ThreadPerFollow")
                                                    : std::string("FollowLoop");
                         });

TEST_P(FakeEngineFollowTest, StalledStreamIsReopenedFromTheCursor) {
  std::atomic<bool> served{false};
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.startChunked(200);
      c.chunk(FakeEngine::frame(1, ts(1) + "one\n") + FakeEngine::frame(2, ts(1) + "two\n"));
      if (r.index == 0) return c.hangUntilClosed();
      c.chunk(FakeEngine::frame(1, ts(2) + "three\n"));
      served = true;
      c.endChunked();
    } else if (r.target.rfind(kInspect, 0) == 0) {
      c.respond(200, inspectJson(!served));
    }
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(10s));
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  EXPECT_EQ(allTexts(consumer), (std::vector<std::string>{"one", "two", "three"}));
  auto reqs = h.engine.requests();
  int opens = 0;
  for (const auto& r : reqs) {
    if (r.target.rfind(kLogs, 0) != 0) continue;
    if (opens++ == 1) {
      // Resumed from the cursor: 1 s before the last delivered timestamp.
      EXPECT_NE(r.target.find("since=1767225600.000000000"), std::string::npos) << r.target;
    }
  }
  EXPECT_EQ(opens, 3);  // the stalled one, the reopen, the final read after the stop
  if (GetParam() == "4") {
    // The follow loop reopens a stalled stream without inspecting the container first (the
    // inspect would block a shared worker): no inspect between the first open and the second.
    int logsSeen = 0, inspectsBetween = 0;
    for (const auto& r : reqs) {
      if (r.target.rfind(kLogs, 0) == 0 && ++logsSeen == 2) break;
      if (logsSeen == 1 && r.target.rfind(kInspect, 0) == 0) ++inspectsBetween;
    }
    EXPECT_EQ(logsSeen, 2);
    EXPECT_EQ(inspectsBetween, 0);
  }
}

// A stopped container's log was read to its end after the restart grace (the run drained);
// then the container runs again (a restart policy), its stream stalls and is reopened, and it
// stops once more before the engine has written its last line: that stop is waited out and read
// again like the first, not taken as the end because the earlier run was drained.
TEST_P(FakeEngineFollowTest, ARunAfterADrainedOneIsReadToItsEndToo) {
  std::atomic<int> phase{0};  // 0: stopped; 1: running again; 2: stopped again
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.startChunked(200);
      if (r.index == 0) {  // the first run's log, to its end
        c.chunk(FakeEngine::frame(1, ts(1) + "one\n"));
        c.endChunked();
      } else if (phase == 0) {  // the read after the grace: it runs again, writes nothing
        phase = 1;
        c.hangUntilClosed();
      } else if (phase == 1) {  // the reopen after the stall: stopped, "last" not yet written
        phase = 2;
        c.endChunked();
      } else {  // the read after the second grace
        c.chunk(FakeEngine::frame(1, ts(2) + "last\n"));
        c.endChunked();
      }
    } else if (r.target.rfind(kInspect, 0) == 0) {
      c.respond(200, inspectJson(phase == 1));
    }
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(10s));
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  EXPECT_EQ(allTexts(consumer), (std::vector<std::string>{"one", "last"}));
}

// Each case: the first open misbehaves after "one", the second serves the whole log.
void expectReopenAfter(const std::string& badTail, bool closeWithoutEnd) {
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.startChunked(200);
      if (r.index == 0) {
        c.chunk(FakeEngine::frame(1, ts(1) + "one\n") + badTail);
        if (!closeWithoutEnd) c.endChunked();
        return;
      }
      c.chunk(FakeEngine::frame(1, ts(1) + "one\n") + FakeEngine::frame(2, ts(2) + "two\n"));
      c.endChunked();
    } else if (r.target.rfind(kInspect, 0) == 0) {
      c.respond(200, inspectJson(false));
    }
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(10s));
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  EXPECT_EQ(allTexts(consumer), (std::vector<std::string>{"one", "two"}));
  // The broken open, the one that read to the end, and the final read after the stop.
  EXPECT_EQ(h.engine.count(kLogs), 3);
}

TEST_P(FakeEngineFollowTest, GarbageFrameReopens) {
  expectReopenAfter(FakeEngine::frame(9, "garbage"), false);
}

TEST_P(FakeEngineFollowTest, NonZeroPaddingReopens) {
  std::string f = FakeEngine::frame(1, ts(2) + "two\n");
  f[1] = 'x';
  expectReopenAfter(f, false);
}

TEST_P(FakeEngineFollowTest, ConnectionCutInsideAFrameReopens) {
  expectReopenAfter(FakeEngine::frame(2, ts(2) + "two\n").substr(0, 14), true);
}

TEST_P(FakeEngineFollowTest, StreamEndingInsideAFrameReopens) {
  expectReopenAfter(FakeEngine::frame(2, ts(2) + "two\n").substr(0, 5), false);
}

TEST_P(FakeEngineFollowTest, EngineErrorFrameReopens) {
  expectReopenAfter(FakeEngine::frame(3, "error from daemon: file rotated"), false);
}

TEST_P(FakeEngineFollowTest, GarbageTimestampReopens) {
  expectReopenAfter(FakeEngine::frame(2, "not-a-time two\n"), false);
}

TEST_P(FakeEngineFollowTest, PendingPartialLineIsReadAgainWhole) {
  const std::string piece(16384, 'a');
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.startChunked(200);
      c.chunk(FakeEngine::frame(1, ts(1) + "before\n") + FakeEngine::frame(1, ts(3) + piece));
      if (r.index == 0) {
        c.endChunked();  // the stream breaks off inside the long line
        return;
      }
      c.chunk(FakeEngine::frame(1, ts(3) + "b\n"));
      c.endChunked();
    } else if (r.target.rfind(kInspect, 0) == 0) {
      c.respond(200, inspectJson(r.index == 0));
    }
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(10s));
  auto texts = allTexts(consumer);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[0], "before");
  EXPECT_EQ(texts[1], piece + "b");
  EXPECT_EQ(consumer.lines()[1].ts, parseRfc3339("2026-01-01T00:00:03Z").value());
}

TEST_P(FakeEngineFollowTest, GoneContainerEndsWithNotFound) {
  Harness h([&](const FakeRequest&, FakeConnection& c) {
    c.respond(404, R"({"message":"No such container: fakeid"})");
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(5s));
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kNotFound);
  EXPECT_EQ(consumer.endedCalls(), 1);
}

TEST_P(FakeEngineFollowTest, StopInterruptsABlockedReadPromptly) {
  Harness h(
      [&](const FakeRequest& r, FakeConnection& c) {
        if (r.target.rfind(kLogs, 0) == 0) {
          c.startChunked(200);
          c.chunk(FakeEngine::frame(1, ts(1) + "one\n"));
          c.hangUntilClosed();
        } else {
          c.respond(200, inspectJson(true));
        }
      },
      {{"stall_timeout", "60s"}});
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitLines(1, 5s));
  auto t0 = std::chrono::steady_clock::now();
  sub.value()->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
  sub.value()->stop();  // idempotent
  EXPECT_EQ(consumer.endedCalls(), 1);
}

TEST_P(FakeEngineFollowTest, FailingEngineIsRetriedWithBackoffNotATightLoop) {
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.respond(500, R"({"message":"boom"})");
    } else {
      c.respond(200, inspectJson(true));
    }
  });
  RecordingConsumer consumer;
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(zc::testing::waitFor([&] { return h.engine.count(kLogs) >= 2; }, 1500ms))
      << "first retry must come within 1 s";
  std::this_thread::sleep_for(2500ms);
  int n = h.engine.count(kLogs);
  EXPECT_LE(n, 6) << "backoff must grow";
  sub.value()->stop();
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
}

TEST_P(FakeEngineFollowTest, ConsumerBackPressureAndEarlyEnd) {
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind(kLogs, 0) == 0) {
      c.startChunked(200);
      std::string all;
      for (int i = 0; i < 50; ++i) all += FakeEngine::frame(1, ts(1, i) + "l" + std::to_string(i) + "\n");
      c.chunk(all);
      c.hangUntilClosed();
    } else {
      c.respond(200, inspectJson(true));
    }
  }, {{"chunk_max_lines", "10"}});
  RecordingConsumer consumer;
  consumer.setChunkLimit(2);  // the host ends the follow after its second chunk
  auto sub = h.runtime->followLogs(fakeContainer(), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitEnded(5s));
  EXPECT_EQ(consumer.chunks(), 2u);
  EXPECT_EQ(consumer.lineCount(), 20u);
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
  // The cursor after 20 lines resumes at l20.
  auto c = LogCursor::decode(consumer.lastCursor());
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->out.lastTs, parseRfc3339("2026-01-01T00:00:01.000000019Z").value());
  EXPECT_EQ(c->out.count, 1u);
}

TEST(FakeEngineTest, EventsReconnectAndReportDisconnects) {
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.rfind("/v1.41/events", 0) == 0) {
      c.startChunked(200, "Content-Type: application/json\r\n");
      if (r.index == 0) {
        c.chunk(R"({"Type":"container","Action":"die","Actor":{"ID":"fakeid","Attributes":)"
                R"({"name":"zynd-fake","exitCode":"3"}},"timeNano":5})" "\n"
                R"({"Type":"container","Action":"die","Actor":{"ID":"other","Attributes":)"
                R"({"name":"web","exitCode":"1"}},"timeNano":6})" "\n");
        return;  // connection closes without the terminator
      }
      c.hangUntilClosed();
    }
  });
  RecordingEvents events;
  auto sub = h.runtime->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(zc::testing::waitFor(
      [&] { return events.count(plugin::RuntimeEventType::kConnected) >= 2; }, 5s));
  sub.value()->stop();
  auto ev = events.events();
  ASSERT_GE(ev.size(), 4u);
  EXPECT_EQ(ev[0].type, plugin::RuntimeEventType::kConnected);
  EXPECT_EQ(ev[1].type, plugin::RuntimeEventType::kDie);
  EXPECT_EQ(ev[1].deploymentId, "fake");
  EXPECT_EQ(ev[1].exitCode, 3);
  EXPECT_EQ(ev[2].type, plugin::RuntimeEventType::kDisconnected);
  EXPECT_EQ(ev[3].type, plugin::RuntimeEventType::kConnected);
  EXPECT_EQ(events.count(plugin::RuntimeEventType::kDie), 1u);  // "web" is not a deployment
}

TEST(FakeEngineTest, StatsReadingsAreDroppedWhenTheirContainerIsGone) {
  std::atomic<bool> destroy{false};
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.method == "DELETE") {
      c.respond(404, R"({"message":"No such container"})");
    } else if (r.target.rfind("/v1.41/containers/gone/stats", 0) == 0) {
      c.respond(404, R"({"message":"No such container: gone"})");
    } else if (r.target.find("/stats") != std::string::npos) {
      c.respond(200, R"({"read":"2024-01-01T00:00:00Z","cpu_stats":{"cpu_usage":)"
                     R"({"total_usage":2500000000},"system_cpu_usage":10000000000,"online_cpus":1},)"
                     R"("memory_stats":{"usage":300,"limit":1000,"stats":{"inactive_file":50}}})");
    } else if (r.target.rfind("/v1.41/events", 0) == 0) {
      c.startChunked(200, "Content-Type: application/json\r\n");
      zc::testing::waitFor([&] { return destroy.load(); }, 10s);
      c.chunk(R"({"Type":"container","Action":"destroy","Actor":{"ID":"fakeid","Attributes":)"
              R"({"name":"zynd-fake"}},"timeNano":7})" "\n");
      c.hangUntilClosed();
    }
  });
  auto first = h.runtime->sampleResources("fakeid");
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_DOUBLE_EQ(first->cpuSecondsTotal, 2.5);  // total_usage, ns -> s
  ASSERT_TRUE(h.runtime->sampleResources("other").isOk());
  ASSERT_TRUE(h.runtime->sampleResources("kept").isOk());
  EXPECT_EQ(h.runtime->statsKept(), 3u);
  RecordingEvents events;
  auto sub = h.runtime->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk());
  destroy = true;
  ASSERT_TRUE(zc::testing::waitFor(
      [&] { return events.count(plugin::RuntimeEventType::kDestroy) == 1; }, 5s));
  EXPECT_EQ(h.runtime->statsKept(), 2u);  // dropped before the host hears of the destroy
  sub.value()->stop();
  ASSERT_TRUE(h.runtime->removeContainer("other", true).isOk());  // the fake answers 404: gone
  EXPECT_EQ(h.runtime->statsKept(), 1u);
  EXPECT_TRUE(h.runtime->sampleResources("gone").status().isNotFound());
  EXPECT_EQ(h.runtime->statsKept(), 1u);
}

// A batch asks for every container at once: each answer waits for a 400 ms "tick", the
// second reading of a container without a CPU baseline comes in one more wave, and a gone
// container, a bad id and an unreadable answer are errors of their own.
TEST(FakeEngineTest, SampleResourcesBatchAsksForAllAtOnce) {
  Harness h([&](const FakeRequest& r, FakeConnection& c) {
    if (r.target.find("/stats") == std::string::npos) return;
    std::this_thread::sleep_for(400ms);
    if (r.target.rfind("/v1.41/containers/gone/", 0) == 0) {
      c.respond(404, R"({"message":"No such container: gone"})");
    } else if (r.target.rfind("/v1.41/containers/broken/", 0) == 0) {
      c.respond(200, R"({"cpu_stats":)");
    } else {
      // The r.index-th reading of this container: 0.5 s of CPU per 1 s of system time.
      c.respond(200, R"({"read":"2024-01-01T00:00:0)" + std::to_string(r.index) +
                         R"(Z","cpu_stats":{"cpu_usage":{"total_usage":)" +
                         std::to_string(2'500'000'000LL + r.index * 500'000'000LL) +
                         R"(},"system_cpu_usage":)" +
                         std::to_string(10'000'000'000LL + r.index * 1'000'000'000LL) +
                         R"(,"online_cpus":1},"memory_stats":{"usage":300,"limit":1000}})");
    }
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back("c" + std::to_string(i));
  ids.insert(ids.end(), {"gone", "bad/id", "broken"});
  auto t0 = std::chrono::steady_clock::now();
  auto r = h.runtime->sampleResourcesBatch(ids, 256);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_EQ(r.size(), ids.size());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(r[i].isOk()) << ids[i] << ": " << r[i].status().toString();
    EXPECT_DOUBLE_EQ(r[i]->cpuPct, 50.0) << "measured by the second wave";
    EXPECT_DOUBLE_EQ(r[i]->memLimitBytes, 1000.0);
  }
  EXPECT_TRUE(r[30].status().isNotFound()) << r[30].status().toString();
  EXPECT_EQ(r[31].status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(r[32].status().code(), Status::Code::kCorruption) << r[32].status().toString();
  EXPECT_LT(took, 2500ms) << "two waves of one tick each, not 30 containers one by one";
  EXPECT_EQ(h.engine.count("/v1.41/containers/c7/stats"), 2);
  // Baselines kept: the next pass is one wave.
  t0 = std::chrono::steady_clock::now();
  r = h.runtime->sampleResourcesBatch(ids, 256);
  took = std::chrono::steady_clock::now() - t0;
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(r[i].isOk()) << r[i].status().toString();
  EXPECT_DOUBLE_EQ(r[0]->cpuPct, 50.0);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(h.engine.count("/v1.41/containers/c7/stats"), 3);
}

TEST(FakeEngineTest, ApiVersionIsNegotiated) {
  zc::testing::TempDir dir;
  // An engine that speaks 1.45: the runtime uses 1.43, the newest it knows.
  FakeEngine engine(
      dir.path(), [&](const FakeRequest&, FakeConnection& c) { c.respond(200, "[]"); }, "1.45");
  plugin::PluginContext ctx;
  StderrLogger log;
  ctx.options = {{"socket", engine.socketPath()}};
  ctx.logger = &log;
  ctx.clock = &systemClock();
  DockerRuntime rt;
  ASSERT_TRUE(rt.configure(ctx).isOk());
  ASSERT_TRUE(rt.connect().isOk());
  auto list = rt.listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  EXPECT_EQ(engine.count("/v1.43/containers/json?all=1&filters="), 2);  // label, name
}

// What follows "filters=" in a request target, percent-decoded.
std::string decodedFilters(const std::string& target) {
  size_t at = target.find("filters=");
  if (at == std::string::npos) return {};
  std::string out;
  for (size_t i = at + 8; i < target.size() && target[i] != '&'; ++i) {
    if (target[i] == '%' && i + 2 < target.size()) {
      out.push_back(static_cast<char>(std::stoi(target.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(target[i]);
    }
  }
  return out;
}

std::string listEntry(const std::string& id, const std::string& name, bool labelled) {
  return R"({"Id":")" + id + R"(","Names":["/)" + name + R"("],"Labels":{)" +
         (labelled ? R"("zynd.deployment":")" + name.substr(5) + "\"" : std::string()) + "}}";
}

std::string inspectOf(const std::string& id, const std::string& name) {
  return R"({"Id":")" + id + R"(","Name":"/)" + name +
         R"(","State":{"Running":true},"Config":{"Labels":{}},"HostConfig":{}})";
}

// An engine with containers zynd-a (labelled), zynd-b, zynd-c, zynd-gone and zynd-a.b: each
// filtered list answers the ones it matches (the name filter all of them, the label filter a);
// inspect of b fails with 500, of gone with 404.
void listingEngine(const FakeRequest& r, FakeConnection& c) {
  const std::string kList = "/v1.41/containers/json";
  if (r.target.rfind(kList, 0) == 0) {
    std::string f = decodedFilters(r.target);
    if (f == R"({"label":["zynd.deployment"]})") {
      return (void)c.respond(200, "[" + listEntry("aid", "zynd-a", true) + "]");
    }
    if (f == R"({"name":["^/?zynd-"]})") {
      return (void)c.respond(200, "[" + listEntry("bid", "zynd-b", false) + "," +
                                      listEntry("aid", "zynd-a", true) + "," +
                                      listEntry("goneid", "zynd-gone", false) + "," +
                                      listEntry("dotid", "zynd-a.b", false) + "," +
                                      listEntry("cid", "zynd-c", false) + "]");
    }
    return (void)c.respond(400, R"({"message":"the test engine knows no such filter"})");
  }
  for (const char* name : {"a", "c"}) {
    if (r.target == "/v1.41/containers/" + std::string(name) + "id/json") {
      return (void)c.respond(200, inspectOf(std::string(name) + "id", std::string("zynd-") + name));
    }
  }
  if (r.target == "/v1.41/containers/bid/json") {
    return (void)c.respond(500, R"({"message":"inspect failed"})");
  }
  c.respond(404, R"({"message":"No such container"})");
}

std::vector<std::string> deploymentIds(const std::vector<ContainerInfo>& list) {
  std::vector<std::string> ids;
  for (const auto& c : list) ids.push_back(c.deploymentId);
  return ids;
}

TEST(FakeEngineTest, ListAsksOnlyForZyndContainersByLabelAndByName) {
  Harness h(listingEngine);
  auto list = h.runtime->listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  std::vector<std::string> filters;
  for (const auto& r : h.engine.requests()) {
    if (r.target.rfind("/v1.41/containers/json", 0) == 0) {
      EXPECT_NE(r.target.find("all=1"), std::string::npos) << r.target;
      filters.push_back(decodedFilters(r.target));
    }
  }
  EXPECT_EQ(filters, (std::vector<std::string>{R"({"label":["zynd.deployment"]})",
                                               R"({"name":["^/?zynd-"]})"}));
  // Merged by id: zynd-a, listed by both, is inspected once.
  EXPECT_EQ(h.engine.count("/v1.41/containers/aid/json"), 1);
}

TEST(FakeEngineTest, OneFailingInspectSkipsOnlyThatContainer) {
  Harness h(listingEngine);
  auto list = h.runtime->listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  EXPECT_EQ(deploymentIds(*list), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(h.log.count(plugin::LogLevel::kWarn, "zynd-b"), 1u);
  EXPECT_EQ(h.log.count(plugin::LogLevel::kWarn, "zynd-gone"), 0u);  // removed meanwhile
  // The next reconcile asks for it again.
  ASSERT_TRUE(h.runtime->listDeployments().isOk());
  EXPECT_EQ(h.engine.count("/v1.41/containers/bid/json"), 2);
}

TEST(FakeEngineTest, NameWithADotIsRefusedWithOneWarning) {
  Harness h(listingEngine);
  for (int i = 0; i < 3; ++i) {
    auto list = h.runtime->listDeployments();
    ASSERT_TRUE(list.isOk()) << list.status().toString();
    for (const auto& c : *list) EXPECT_NE(c.name, "zynd-a.b");
  }
  EXPECT_EQ(h.log.count(plugin::LogLevel::kWarn, "deployment id 'a.b' is not"), 1u);
  EXPECT_EQ(h.engine.count("/v1.41/containers/dotid/json"), 0);
}

// Containers from images: sha256:aaa carries zynd.deployment=victim, sha256:gone is no longer
// there (404), sha256:bad cannot be read (500).
void imageEngine(const FakeRequest& r, FakeConnection& c) {
  auto inspect = [](const std::string& id, const std::string& name, const std::string& image,
                    const std::string& deployment) {
    return R"({"Id":")" + id + R"(","Name":"/)" + name + R"(","Image":")" + image +
           R"(","State":{"Running":true},"Config":{"Labels":{"zynd.deployment":")" + deployment +
           R"("}},"HostConfig":{}})";
  };
  if (r.target == "/v1.41/containers/cid/json") {
    return (void)c.respond(200, inspect("cid", "intruder", "sha256:aaa", "victim"));
  }
  if (r.target == "/v1.41/containers/did/json") {
    return (void)c.respond(200, inspect("did", "zynd-mine", "sha256:aaa", "victim"));
  }
  if (r.target == "/v1.41/containers/eid/json") {
    return (void)c.respond(200, inspect("eid", "other", "sha256:gone", "x"));
  }
  if (r.target == "/v1.41/containers/fid/json") {
    return (void)c.respond(200, inspect("fid", "other", "sha256:bad", "y"));
  }
  if (r.target == "/v1.41/images/sha256:aaa/json") {
    return (void)c.respond(200, R"({"Id":"sha256:aaa","Config":{"Labels":{"zynd.deployment":"victim"}}})");
  }
  if (r.target == "/v1.41/images/sha256:bad/json") {
    return (void)c.respond(500, R"({"message":"image store broken"})");
  }
  c.respond(404, R"({"message":"No such object"})");
}

TEST(FakeEngineTest, ImageLabelsAreReadOncePerImageAndNeverTrusted) {
  Harness h(imageEngine);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(h.runtime->inspect("cid").status().isNotFound());  // claims the victim: no
    auto mine = h.runtime->inspect("did");
    ASSERT_TRUE(mine.isOk()) << mine.status().toString();
    EXPECT_EQ(mine->deploymentId, "mine");  // the name decides
  }
  EXPECT_EQ(h.engine.count("/v1.41/images/sha256:aaa/json"), 1);  // cached by image id
  EXPECT_EQ(h.runtime->imagesCached(), 1u);
  EXPECT_EQ(h.log.count(plugin::LogLevel::kWarn, "zynd.deployment=victim"), 1u);  // once
}

TEST(FakeEngineTest, AnImageThatCannotBeReadTrustsNoLabel) {
  Harness h(imageEngine);
  // Gone: every zynd.* label could be the image's (fail closed), so the label claims nothing.
  EXPECT_TRUE(h.runtime->inspect("eid").status().isNotFound());
  // Unreadable: an error (the caller retries), never an unchecked claim.
  auto bad = h.runtime->inspect("fid");
  EXPECT_FALSE(bad.isOk());
  EXPECT_FALSE(bad.status().isNotFound()) << bad.status().toString();
  EXPECT_EQ(h.runtime->imagesCached(), 0u);
}

}  // namespace
}  // namespace zc::docker::testing
