// The runtime plugin, loaded through the plugin registry, against the real Docker engine.
// Containers run the test image (scripts/build-test-image.sh), are named zynd-t<random>, labelled
// zynd.test=1, and removed at the end of each test whatever happens.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "engine_test_support.h"
#include "log_cursor.h"
#include "test_support.h"

namespace zc::docker::testing {
namespace {

using namespace std::chrono_literals;
using plugin::ContainerInfo;
using plugin::RuntimeEventType;

class DockerEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_DOCKER_OR_SKIP();
    std::string out;
    if (docker("image inspect " + zc::testing::testImage() + " >/dev/null", &out) != 0) {
      FAIL() << "test image " << zc::testing::testImage()
             << " missing: run scripts/build-test-image.sh";
    }
    runtime_ = loadRuntime(options());
    ASSERT_TRUE(runtime_);
    ASSERT_TRUE(runtime_->connect().isOk());
  }
  // These tests are about the Engine API follow (its cursors, its resume): log_source=api, not
  // the default auto (the json-file path: tests/integration/log_file_test.cpp).
  virtual std::map<std::string, std::string> options() { return {{"log_source", "api"}}; }

  ContainerInfo info(const TestContainer& c) {
    auto r = runtime_->inspect(c.id());
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? r.value() : ContainerInfo{};
  }

  // Follows from `cursor` until ended(); returns the consumer.
  void followToEnd(const ContainerInfo& ci, const std::string& cursor, RecordingConsumer* consumer,
                   std::chrono::milliseconds timeout = 60s) {
    auto sub = runtime_->followLogs(ci, cursor, consumer);
    ASSERT_TRUE(sub.isOk()) << sub.status().toString();
    ASSERT_TRUE(consumer->waitEnded(timeout)) << "follow did not end";
    sub.value()->stop();
  }

  host::PluginPtr<plugin::Runtime> runtime_;
};

std::vector<std::string> numbered(const std::string& prefix, int n, int from = 0) {
  std::vector<std::string> v;
  for (int i = from; i < n; ++i) v.push_back(prefix + std::to_string(i));
  return v;
}

// Lines of `n` numbered lines on each stream, written as fast as busybox can.
std::string bothStreamsScript(int n) {
  return "i=0; while [ $i -lt " + std::to_string(n) +
         " ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done";
}

TEST_F(DockerEngineTest, NumberedLinesOnBothStreamsArriveOnceInOrder) {
  TestContainer c("", bothStreamsScript(3000));
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  followToEnd(info(c), "", &consumer);
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  EXPECT_EQ(consumer.texts(LogStream::kStdout), numbered("out ", 3000));
  EXPECT_EQ(consumer.texts(LogStream::kStderr), numbered("err ", 3000));
  EXPECT_EQ(consumer.endedCalls(), 1);
  // Timestamps never go backwards within a stream.
  TimeNs last[3] = {0, 0, 0};
  for (const auto& l : consumer.lines()) {
    EXPECT_GE(l.ts, last[static_cast<int>(l.stream)]);
    last[static_cast<int>(l.stream)] = l.ts;
  }
}

TEST_F(DockerEngineTest, LineOf100000BytesArrivesWhole) {
  TestContainer c("", "echo first; head -c 100000 /dev/zero | tr '\\0' x; echo; echo after");
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  followToEnd(info(c), "", &consumer);
  auto lines = consumer.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "first");
  EXPECT_EQ(lines[1].text, std::string(100000, 'x'));
  EXPECT_FALSE(lines[1].truncated);
  EXPECT_EQ(lines[2].text, "after");
}

TEST_F(DockerEngineTest, TtyContainer) {
  TestContainer c("-t",
                  "echo hello; head -c 40000 /dev/zero | tr '\\0' y; echo; echo err >&2; "
                  "printf 'no newline at exit'");
  ASSERT_TRUE(c.ok());
  ContainerInfo ci = info(c);
  EXPECT_TRUE(ci.tty);
  RecordingConsumer consumer;
  followToEnd(ci, "", &consumer);
  EXPECT_TRUE(consumer.endStatus().isOk());
  EXPECT_EQ(consumer.texts(LogStream::kStdout),
            (std::vector<std::string>{"hello", std::string(40000, 'y'), "err", "no newline at exit"}));
}

TEST_F(DockerEngineTest, StopHalfwayAndResumeFromTheCursor) {
  TestContainer c("", bothStreamsScript(4000));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ContainerInfo ci = info(c);
  std::vector<plugin::RawLine> all;
  // First follow: stop it by hand once some lines are in.
  RecordingConsumer first;
  {
    auto sub = runtime_->followLogs(ci, "", &first);
    ASSERT_TRUE(sub.isOk());
    ASSERT_TRUE(first.waitLines(1000, 30s));
    sub.value()->stop();
  }
  EXPECT_EQ(first.endStatus().code(), Status::Code::kAborted);
  RecordingConsumer second;
  followToEnd(ci, first.lastCursor(), &second);
  std::vector<std::string> out = first.texts(LogStream::kStdout), err = first.texts(LogStream::kStderr);
  for (auto& s : second.texts(LogStream::kStdout)) out.push_back(s);
  for (auto& s : second.texts(LogStream::kStderr)) err.push_back(s);
  EXPECT_EQ(out, numbered("out ", 4000));
  EXPECT_EQ(err, numbered("err ", 4000));
}

class DockerSmallChunksTest : public DockerEngineTest {
 protected:
  std::map<std::string, std::string> options() override {
    return {{"chunk_max_lines", "1"}, {"log_source", "api"}};
  }
};

TEST_F(DockerSmallChunksTest, ResumeAtManyPointsWithEqualTimestamps) {
  // Long lines: the engine gives every 16 KiB piece of one line the same timestamp, so cursors
  // with count > 1 occur (the cursor after such a line); short lines on both streams in
  // between, so some resumes also start inside a pending long line. Resume after every line.
  std::string script =
      "i=0; while [ $i -lt 12 ]; do echo \"s $i\"; head -c 40000 /dev/zero | tr '\\0' $((i%10)); "
      "echo; echo \"e $i\" >&2; i=$((i+1)); done; i=0; while [ $i -lt 60 ]; do echo \"n $i\"; "
      "echo \"m $i\" >&2; i=$((i+1)); done";
  TestContainer c("", script);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.waitExited(60s));
  ContainerInfo ci = info(c);
  std::vector<plugin::RawLine> got;
  std::string cursor;
  bool sawCountAbove1 = false;
  int follows = 0;
  for (; follows < 400; ++follows) {
    RecordingConsumer consumer;
    consumer.setChunkLimit(1);
    followToEnd(ci, cursor, &consumer);
    for (auto& l : consumer.lines()) got.push_back(l);
    if (consumer.endStatus().isOk()) break;
    ASSERT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
    ASSERT_FALSE(consumer.lastCursor().empty());
    cursor = consumer.lastCursor();
    auto dc = LogCursor::decode(cursor);
    ASSERT_TRUE(dc.isOk());
    sawCountAbove1 = sawCountAbove1 || dc->out.count > 1 || dc->err.count > 1;
  }
  EXPECT_EQ(follows, 12 * 3 + 60 * 2);  // one line per follow, then the one that ends
  EXPECT_TRUE(sawCountAbove1);
  std::vector<std::string> out, err;
  for (const auto& l : got) (l.stream == LogStream::kStdout ? out : err).push_back(l.text);
  std::vector<std::string> wantOut, wantErr;
  for (int i = 0; i < 12; ++i) {
    wantOut.push_back("s " + std::to_string(i));
    wantOut.push_back(std::string(40000, static_cast<char>('0' + i % 10)));
    wantErr.push_back("e " + std::to_string(i));
  }
  for (int i = 0; i < 60; ++i) {
    wantOut.push_back("n " + std::to_string(i));
    wantErr.push_back("m " + std::to_string(i));
  }
  EXPECT_EQ(out.size(), wantOut.size());
  EXPECT_EQ(out, wantOut);
  EXPECT_EQ(err, wantErr);
}

// Lines "run <n> line <i>", where n counts the container's starts (kept in /tmp).
const char kRunScript[] =
    "trap 'exit 0' TERM; n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; ";

void checkRuns(const std::vector<std::string>& lines, int minRuns) {
  std::map<int, int> next;  // run -> next expected line
  int lastRun = 0;
  for (const auto& l : lines) {
    int run = -1, i = -1;
    ASSERT_EQ(std::sscanf(l.c_str(), "run %d line %d", &run, &i), 2) << l;
    ASSERT_GE(run, lastRun) << "runs out of order at " << l;
    lastRun = run;
    ASSERT_EQ(i, next[run]) << "gap or duplicate at " << l;
    next[run] = i + 1;
  }
  EXPECT_GE(static_cast<int>(next.size()), minRuns);
}

TEST_F(DockerEngineTest, RestartPolicyContinuesWithoutDuplicateOrGap) {
  std::string script = std::string(kRunScript) +
                       "i=0; while [ $i -lt 200 ]; do echo \"run $n line $i\"; i=$((i+1)); done; "
                       "[ $n -lt 3 ] && exit 1; exit 0";
  TestContainer c("--restart on-failure:5", script);
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  auto sub = runtime_->followLogs(info(c), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitLines(600, 60s)) << consumer.lineCount();
  ASSERT_TRUE(consumer.waitEnded(30s));
  sub.value()->stop();
  auto lines = consumer.texts(LogStream::kStdout);
  EXPECT_EQ(lines.size(), 600u);
  checkRuns(lines, 3);
}

TEST_F(DockerEngineTest, DockerRestartContinuesWithoutDuplicateOrGap) {
  std::string script = std::string(kRunScript) +
                       "i=0; while true; do echo \"run $n line $i\"; i=$((i+1)); sleep 0.02; done";
  TestContainer c("", script);
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  auto sub = runtime_->followLogs(info(c), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitLines(20, 30s));
  ASSERT_EQ(docker("restart -t 5 " + c.name() + " >/dev/null"), 0);
  ASSERT_TRUE(consumer.waitFor(
      [&] {
        auto t = consumer.texts(LogStream::kStdout);
        return !t.empty() && t.back().rfind("run 2 line 2", 0) == 0;
      },
      30s));
  EXPECT_FALSE(consumer.hasEnded()) << consumer.endStatus().toString();
  ASSERT_EQ(docker("stop -t 5 " + c.name() + " >/dev/null"), 0);
  ASSERT_TRUE(consumer.waitEnded(30s));
  EXPECT_TRUE(consumer.endStatus().isOk()) << consumer.endStatus().toString();
  sub.value()->stop();
  checkRuns(consumer.texts(LogStream::kStdout), 2);
}

TEST_F(DockerEngineTest, EventsDeliverDieWithExitCode) {
  RecordingEvents events;
  auto sub = runtime_->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(events.waitFor([](const auto& e) { return e.type == RuntimeEventType::kConnected; }, 10s));
  TestContainer c("", "exit 3");
  ASSERT_TRUE(c.ok());
  plugin::RuntimeEvent die;
  ASSERT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kDie && e.deploymentId == c.deploymentId(); },
      20s, &die));
  EXPECT_EQ(die.exitCode, 3);
  EXPECT_EQ(die.containerId, c.id());
  EXPECT_GT(die.ts, 0);
  EXPECT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kStart && e.deploymentId == c.deploymentId(); },
      1s));
  // Containers that are not deployments are never reported.
  std::string other = "zc-other-" + randomSuffix();
  docker("run --name " + other + " --label zynd.test=1 " + zc::testing::testImage() +
         " sh -c 'exit 4' >/dev/null");
  docker("rm -f " + other + " >/dev/null");
  sub.value()->stop();
  for (const auto& e : events.events()) {
    EXPECT_NE(e.exitCode, std::optional<int>(4));
    if (e.type != RuntimeEventType::kConnected && e.type != RuntimeEventType::kDisconnected) {
      EXPECT_FALSE(e.deploymentId.empty());
    }
  }
}

TEST_F(DockerEngineTest, OomKillIsReported) {
  RecordingEvents events;
  auto sub = runtime_->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(events.waitFor([](const auto& e) { return e.type == RuntimeEventType::kConnected; }, 10s));
  TestContainer c("-m 32m --memory-swap 32m", "x=0123456789abcdef; while true; do x=$x$x; done");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kOom && e.deploymentId == c.deploymentId(); },
      30s));
  plugin::RuntimeEvent die;
  ASSERT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kDie && e.deploymentId == c.deploymentId(); },
      30s, &die));
  EXPECT_EQ(die.exitCode, 137);
  ContainerInfo ci = info(c);
  EXPECT_TRUE(ci.oomKilled);
  EXPECT_EQ(ci.exitCode, 137);
  sub.value()->stop();
}

TEST_F(DockerEngineTest, ListAndInspectDeployments) {
  int port = 13000 + static_cast<int>(std::hash<std::string>{}(randomSuffix()) % 900);
  TestContainer c("-m 1536m --restart unless-stopped -p 127.0.0.1:" + std::to_string(port) +
                      ":8080 --label zynd.kind=agent --label zynd.name=Bot",
                  "sleep 60");
  ASSERT_TRUE(c.ok());
  std::string labelled = "zc-lab-" + randomSuffix();
  TestContainer byLabel("--label zynd.deployment=lab" + labelled.substr(7), "sleep 60", labelled);
  TestContainer notOurs("", "sleep 60", "zc-plain-" + randomSuffix());
  TestContainer badLabel("--label zynd.deployment=bad.id", "sleep 60");
  auto list = runtime_->listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  std::map<std::string, ContainerInfo> byId;
  for (auto& ci : list.value()) byId[ci.containerId] = ci;
  ASSERT_TRUE(byId.count(c.id()));
  const ContainerInfo& ci = byId[c.id()];
  EXPECT_EQ(ci.deploymentId, c.deploymentId());
  EXPECT_EQ(ci.name, c.name());
  EXPECT_TRUE(ci.running);
  EXPECT_EQ(ci.entityType, "agent");
  EXPECT_EQ(ci.displayName, "Bot");
  EXPECT_EQ(ci.hostPort, port);
  EXPECT_EQ(ci.memoryLimitBytes, 1536LL * 1024 * 1024);
  EXPECT_EQ(ci.restartPolicy, "unless-stopped");
  EXPECT_FALSE(ci.tty);
  EXPECT_TRUE(ci.startedAt.has_value());
  EXPECT_FALSE(ci.exitCode.has_value());
  EXPECT_GT(ci.createdAt, 0);
  ASSERT_TRUE(byId.count(byLabel.id()));
  EXPECT_EQ(byId[byLabel.id()].deploymentId, "lab" + labelled.substr(7));
  EXPECT_FALSE(byId.count(notOurs.id()));
  EXPECT_FALSE(byId.count(badLabel.id()));
  EXPECT_EQ(runtime_->inspect(notOurs.id()).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(runtime_->inspect("0000000000000000dead").status().code(), Status::Code::kNotFound);
}

TEST_F(DockerEngineTest, NameWithADotIsNoDeploymentAndIsWarnedAboutOnce) {
  TestContainer dotted("", "sleep 60", "zynd-nl" + randomSuffix() + ".y");
  ASSERT_TRUE(dotted.ok());
  const std::string warning = "deployment id '" + dotted.name().substr(5) + "' is not";
  for (int i = 0; i < 2; ++i) {
    auto list = runtime_->listDeployments();
    ASSERT_TRUE(list.isOk()) << list.status().toString();
    for (const auto& ci : list.value()) EXPECT_NE(ci.containerId, dotted.id());
  }
  EXPECT_EQ(logger().count(plugin::LogLevel::kWarn, warning), 1u);
}

TEST_F(DockerEngineTest, SampleResourcesLikeDockerStats) {
  TestContainer c("-m 1536m", "while true; do :; done");
  ASSERT_TRUE(c.ok());
  // The first sample is measured too: a second one-shot request at the engine's next tick.
  auto t0 = std::chrono::steady_clock::now();
  auto first = runtime_->sampleResources(c.id());
  auto firstTook = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_GT(first->cpuPct, 20.0);
  EXPECT_LT(first->cpuPct, 210.0);
  EXPECT_LT(firstTook, 3s);
  std::this_thread::sleep_for(1s);
  t0 = std::chrono::steady_clock::now();
  auto second = runtime_->sampleResources(c.id());
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(second.isOk());
  EXPECT_LT(took, 900ms) << "one-shot stats must not wait for a second engine sample";
  // A busy loop uses about one core (100 %); leave room for a loaded 2-core machine.
  EXPECT_GT(second->cpuPct, 20.0);
  EXPECT_LT(second->cpuPct, 210.0);
  EXPECT_DOUBLE_EQ(second->memLimitBytes, 1536.0 * 1024 * 1024);
  EXPECT_GT(second->memUsedBytes, 0.0);
  EXPECT_LT(second->memUsedBytes, 64.0 * 1024 * 1024);
  EXPECT_GT(second->sampledAt, first->sampledAt);
}

// One batch over 20 containers takes about two engine ticks (the first readings, then the
// second wave that measures CPU), not 20 requests' worth; a gone container is its own error.
TEST_F(DockerEngineTest, SampleResourcesBatchOfTwentyContainers) {
  constexpr size_t kContainers = 20;
  constexpr size_t kAtOnce = 10;  // `docker run`s (and at the end `docker rm`s) in flight
  std::vector<std::unique_ptr<TestContainer>> cs(kContainers);
  // Made and removed kAtOnce at a time: one after the other they cost a second or two each.
  auto inParallel = [&](const std::function<void(size_t)>& each) {
    std::vector<std::thread> ts;
    for (size_t t = 0; t < kAtOnce; ++t) {
      ts.emplace_back([&, t] {
        for (size_t i = t; i < kContainers; i += kAtOnce) each(i);
      });
    }
    for (auto& t : ts) t.join();
  };
  struct RemoveAll {
    std::function<void()> run;
    ~RemoveAll() { run(); }
  } removeAll{[&] { inParallel([&](size_t i) { cs[i].reset(); }); }};
  inParallel([&](size_t i) { cs[i] = std::make_unique<TestContainer>("-m 256m", "sleep 600"); });
  std::vector<std::string> ids;
  for (const auto& c : cs) {
    ASSERT_TRUE(c->ok());
    ids.push_back(c->id());
  }
  ids.push_back("zynd-t-no-such-container-" + randomSuffix());
  for (int pass = 0; pass < 2; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = runtime_->sampleResourcesBatch(ids, 256);
    auto took = std::chrono::steady_clock::now() - t0;
    std::printf("batch pass %d over %zu containers: %.0f ms\n", pass, cs.size(),
                std::chrono::duration<double, std::milli>(took).count());
    ASSERT_EQ(r.size(), ids.size());
    for (size_t i = 0; i < cs.size(); ++i) {
      ASSERT_TRUE(r[i].isOk()) << ids[i] << ": " << r[i].status().toString();
      EXPECT_GT(r[i]->sampledAt, 0);
      EXPECT_DOUBLE_EQ(r[i]->memLimitBytes, 256.0 * 1024 * 1024);
      EXPECT_GE(r[i]->cpuPct, 0.0);
    }
    EXPECT_TRUE(r.back().status().isNotFound()) << r.back().status().toString();
    EXPECT_LT(took, 5s);
  }
}

TEST_F(DockerEngineTest, StopAndRemoveContainer) {
  TestContainer c("", "trap 'exit 0' TERM; while true; do sleep 0.1; done");
  ASSERT_TRUE(c.ok());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(runtime_->stopContainer(c.id(), 10s).isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_FALSE(c.running());
  EXPECT_TRUE(runtime_->stopContainer(c.id(), 10s).isOk()) << "already stopped is success";
  ContainerInfo ci = info(c);
  EXPECT_EQ(ci.exitCode, 0);
  EXPECT_TRUE(runtime_->removeContainer(c.id(), false).isOk());
  EXPECT_EQ(runtime_->inspect(c.id()).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(runtime_->removeContainer(c.id(), false).isOk()) << "unknown is success";

  TestContainer running("", "sleep 60");
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(runtime_->removeContainer(running.id(), false).isOk());
  EXPECT_TRUE(runtime_->removeContainer(running.id(), true).isOk());
}

TEST_F(DockerEngineTest, FollowOfARunningContainerDeliversWithLowLatency) {
  TestContainer c("", "while true; do read -t 1 x; echo tick; sleep 0.2; done");
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  auto sub = runtime_->followLogs(info(c), "", &consumer);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(consumer.waitLines(5, 10s));
  EXPECT_EQ(consumer.chunks(), consumer.lineCount()) << "a trickle is delivered line by line";
  sub.value()->stop();
  EXPECT_EQ(consumer.endStatus().code(), Status::Code::kAborted);
}

TEST_F(DockerEngineTest, MalformedCursorIsRejected) {
  TestContainer c("", "echo hi");
  ASSERT_TRUE(c.ok());
  RecordingConsumer consumer;
  auto sub = runtime_->followLogs(info(c), "v9-garbage", &consumer);
  ASSERT_FALSE(sub.isOk());
  EXPECT_EQ(sub.status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace zc::docker::testing
