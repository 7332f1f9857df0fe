// The Podman runtime plugin, loaded through the registry, against a real Podman service
// (scripts/start-podman.sh, the image of scripts/build-podman-test-image.sh): discovery, the
// log follow from the k8s-file (both streams, 100,000-byte lines, nanosecond timestamps, resume),
// events (died with its exit code, remove), stats, stop with grace, removal, a socket that does
// not answer, and the event stream reconnecting after the service restarts.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "engine_test_support.h"
#include "test_support.h"
#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/runtime.h"

namespace zc::podman {
namespace {

using namespace std::chrono_literals;
using docker::testing::RecordingConsumer;
using docker::testing::RecordingEvents;
using plugin::RuntimeEventType;
using zc::testing::runCommand;

const host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry();  // never destroyed: plugins are never unloaded
    Status st = reg->scanDirectory(ZC_PLUGIN_DIR);
    if (st.isOk()) st = reg->openAll();
    if (!st.isOk()) ADD_FAILURE() << "scan " << ZC_PLUGIN_DIR << ": " << st.toString();
    reg->freeze();
    return reg;
  }();
  return *r;
}

Result<host::PluginPtr<plugin::Runtime>> createRuntime(std::map<std::string, std::string> opts) {
  if (!opts.count("socket")) opts["socket"] = zc::testing::podmanSocketPath();
  plugin::PluginContext ctx;
  ctx.options = std::move(opts);
  ctx.logger = &docker::testing::logger();
  ctx.clock = &systemClock();
  return registry().create<plugin::Runtime>("podman", ctx);
}

host::PluginPtr<plugin::Runtime> loadPodman(std::map<std::string, std::string> opts = {}) {
  auto r = createRuntime(std::move(opts));
  if (!r.isOk()) {
    ADD_FAILURE() << "cannot create the podman runtime: " << r.status().toString();
    return nullptr;
  }
  return std::move(r).value();
}

int podman(const std::string& args, std::string* out = nullptr) {
  return runCommand("podman " + args + " 2>&1", out);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A container started with `podman run -d --network none`, removed with `rm -f -t 0`.
class PodmanContainer {
 public:
  PodmanContainer(const std::string& runArgs, const std::string& script) {
    name_ = "zynd-pt" + docker::testing::randomSuffix();
    std::string out;
    int rc = podman("run -d --network none --name " + name_ + " --label zynd.kind=agent " +
                        runArgs + " " + zc::testing::testImage() + " sh -c '" + script + "'",
                    &out);
    if (rc == 0) id_ = trimmed(out);
    else ADD_FAILURE() << "podman run: " << out;
  }
  ~PodmanContainer() { podman("rm -f -t 0 " + name_ + " >/dev/null"); }
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  std::string deploymentId() const { return name_.substr(5); }
  bool waitExited(std::chrono::milliseconds limit) const {
    return zc::testing::waitFor(
        [&] {
          std::string out;
          podman("inspect -f '{{.State.Running}}' " + name_, &out);
          return trimmed(out) == "false";
        },
        limit, 100ms);
  }

 private:
  std::string name_;
  std::string id_;
};

class PodmanEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!zc::testing::podmanAvailable()) {
      if (zc::testing::podmanRequired()) FAIL() << "Podman required but not reachable";
      GTEST_SKIP() << "no Podman service at " << zc::testing::podmanSocketPath()
                   << " (scripts/start-podman.sh)";
    }
    rt_ = loadPodman();
    ASSERT_TRUE(rt_);
    ASSERT_TRUE(rt_->connect().isOk());
  }
  host::PluginPtr<plugin::Runtime> rt_;
};

TEST_F(PodmanEngineTest, ListsAndInspectsDeployments) {
  PodmanContainer c("--label zynd.name=Probe", "sleep 60");
  ASSERT_FALSE(c.id().empty());
  auto list = rt_->listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  bool found = false;
  for (const auto& info : list.value()) {
    if (info.containerId != c.id()) continue;
    found = true;
    EXPECT_EQ(info.deploymentId, c.deploymentId());
    EXPECT_EQ(info.name, c.name());
    EXPECT_TRUE(info.running);
    EXPECT_EQ(info.entityType, "agent");
    EXPECT_EQ(info.displayName, "Probe");
    EXPECT_TRUE(info.startedAt.has_value());
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(rt_->inspect("nosuchcontainer").status().isNotFound());
  EXPECT_EQ(rt_->inspect("../etc").status().code(), Status::Code::kInvalidArgument);
}

TEST_F(PodmanEngineTest, FollowsBothStreamsLongLinesAndNanosecondsFromTheFile) {
  // 200 short lines on each stream and three 100,000-byte lines (conmon cuts them in pieces).
  PodmanContainer c("",
                    "i=0; while [ $i -lt 200 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; "
                    "x=$(head -c 100000 /dev/zero | tr \"\\\\0\" a); "
                    "for k in 1 2 3; do echo \"$x\"; done; echo done");
  ASSERT_FALSE(c.id().empty());
  ASSERT_TRUE(c.waitExited(20s));
  auto info = rt_->inspect(c.id());
  ASSERT_TRUE(info.isOk()) << info.status().toString();
  RecordingConsumer rec;
  auto sub = rt_->followLogs(info.value(), "", &rec);
  ASSERT_TRUE(sub.isOk()) << sub.status().toString();
  ASSERT_TRUE(rec.waitEnded(20s));
  EXPECT_TRUE(rec.endStatus().isOk()) << rec.endStatus().toString();
  auto out = rec.texts(LogStream::kStdout);
  auto err = rec.texts(LogStream::kStderr);
  ASSERT_EQ(out.size(), 204u);
  ASSERT_EQ(err.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(out[i], "out" + std::to_string(i));
    EXPECT_EQ(err[i], "err" + std::to_string(i));
  }
  for (int k = 0; k < 3; ++k) EXPECT_EQ(out[200 + k], std::string(100000, 'a'));
  EXPECT_EQ(out[203], "done");
  bool subSecond = false;
  for (const auto& l : rec.lines()) subSecond |= l.ts % kNanosPerSecond != 0;
  EXPECT_TRUE(subSecond) << "timestamps should carry the file's nanoseconds";
  // Resuming from the last cursor finds nothing new.
  RecordingConsumer again;
  auto sub2 = rt_->followLogs(info.value(), rec.lastCursor(), &again);
  ASSERT_TRUE(sub2.isOk());
  ASSERT_TRUE(again.waitEnded(20s));
  EXPECT_EQ(again.lineCount(), 0u);
}

TEST_F(PodmanEngineTest, DiedCarriesTheExitCodeAndRemoveIsDestroy) {
  RecordingEvents events;
  auto sub = rt_->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk()) << sub.status().toString();
  ASSERT_TRUE(events.waitFor([](const auto& e) { return e.type == RuntimeEventType::kConnected; },
                             10s));
  std::string id, dep;
  {
    PodmanContainer c("", "sleep 0.3; exit 3");
    id = c.id();
    dep = c.deploymentId();
    plugin::RuntimeEvent die;
    ASSERT_TRUE(events.waitFor(
        [&](const auto& e) { return e.type == RuntimeEventType::kDie && e.containerId == id; },
        20s, &die));
    EXPECT_EQ(die.deploymentId, dep);
    ASSERT_TRUE(die.exitCode.has_value());
    EXPECT_EQ(*die.exitCode, 3);
    auto info = rt_->inspect(id);
    ASSERT_TRUE(info.isOk());
    EXPECT_EQ(info.value().exitCode, 3);
    EXPECT_FALSE(info.value().running);
  }
  EXPECT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kDestroy && e.containerId == id; },
      20s));
}

TEST_F(PodmanEngineTest, SamplesCpuAndMemory) {
  PodmanContainer c("--memory 64m", "while :; do :; done");
  ASSERT_FALSE(c.id().empty());
  auto first = rt_->sampleResources(c.id());
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first.value().cpuPct, 0);  // no previous sample yet
  std::this_thread::sleep_for(1s);
  auto second = rt_->sampleResources(c.id());
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_GT(second.value().cpuPct, 20.0);  // a busy loop: most of a core
  EXPECT_LT(second.value().cpuPct, 250.0);
  EXPECT_GT(second.value().memUsedBytes, 0);
  EXPECT_EQ(second.value().memLimitBytes, 64.0 * 1024 * 1024);
  EXPECT_GT(second.value().cpuSecondsTotal, 0);
  EXPECT_TRUE(rt_->sampleResources("nosuchcontainer").status().code() != Status::Code::kOk);
}

// A pass over many containers at once (batchGet: one poll over all connections): result i is
// container i's, as sampleResources() gives it; a missing or malformed id fails alone. Timing:
// the same pass one container after the other and batched, alternated, medians printed.
TEST_F(PodmanEngineTest, SamplesManyContainersInOneBatch) {
  PodmanContainer busy("--memory 64m", "while :; do :; done");
  PodmanContainer idle1("--memory 32m", "sleep 120");
  PodmanContainer idle2("--memory 48m", "sleep 120");
  ASSERT_FALSE(busy.id().empty());
  ASSERT_FALSE(idle1.id().empty());
  ASSERT_FALSE(idle2.id().empty());
  std::vector<std::string> ids = {busy.id(), "nosuchcontainer", idle1.id(), "../etc", idle2.id()};
  auto first = rt_->sampleResourcesBatch(ids, 8);
  ASSERT_EQ(first.size(), ids.size());
  for (size_t i : {0u, 2u, 4u}) {
    ASSERT_TRUE(first[i].isOk()) << i << ": " << first[i].status().toString();
    EXPECT_EQ(first[i].value().cpuPct, 0);  // no previous sample yet
  }
  EXPECT_TRUE(first[1].status().isNotFound()) << first[1].status().toString();
  EXPECT_EQ(first[3].status().code(), Status::Code::kInvalidArgument);
  std::this_thread::sleep_for(1s);
  auto second = rt_->sampleResourcesBatch(ids, 1);  // one in flight at a time: the same answers
  ASSERT_EQ(second.size(), ids.size());
  for (size_t i : {0u, 2u, 4u}) ASSERT_TRUE(second[i].isOk()) << second[i].status().toString();
  EXPECT_GT(second[0].value().cpuPct, 20.0);
  EXPECT_LT(second[2].value().cpuPct, 20.0);
  EXPECT_EQ(second[0].value().memLimitBytes, 64.0 * 1024 * 1024);
  EXPECT_EQ(second[2].value().memLimitBytes, 32.0 * 1024 * 1024);
  EXPECT_EQ(second[4].value().memLimitBytes, 48.0 * 1024 * 1024);
  EXPECT_GT(second[4].value().memUsedBytes, 0);
  EXPECT_FALSE(second[1].isOk());

  std::vector<std::string> live = {busy.id(), idle1.id(), idle2.id()};
  std::vector<double> seqMs, batchMs;
  for (int run = 0; run < 3; ++run) {
    auto t0 = std::chrono::steady_clock::now();
    for (const auto& id : live) EXPECT_TRUE(rt_->sampleResources(id).isOk());
    auto t1 = std::chrono::steady_clock::now();
    for (const auto& r : rt_->sampleResourcesBatch(live, 8)) EXPECT_TRUE(r.isOk());
    auto t2 = std::chrono::steady_clock::now();
    seqMs.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    batchMs.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::sort(seqMs.begin(), seqMs.end());
  std::sort(batchMs.begin(), batchMs.end());
  std::printf("stats pass of %zu containers, median of 3 alternating: sequential %.1f ms, "
              "batched %.1f ms\n", live.size(), seqMs[1], batchMs[1]);
}

TEST_F(PodmanEngineTest, StopsWithGraceThenRemoves) {
  PodmanContainer c("", "trap \"echo bye; exit 0\" TERM; while :; do sleep 0.1; done");
  ASSERT_FALSE(c.id().empty());
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(rt_->stopContainer(c.id(), 5s).isOk());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);  // TERM handled: no kill after grace
  auto info = rt_->inspect(c.id());
  ASSERT_TRUE(info.isOk());
  EXPECT_FALSE(info.value().running);
  EXPECT_EQ(info.value().exitCode, 0);
  EXPECT_TRUE(rt_->stopContainer(c.id(), 1s).isOk());  // already stopped
  ASSERT_TRUE(rt_->removeContainer(c.id(), false).isOk());
  EXPECT_TRUE(rt_->inspect(c.id()).status().isNotFound());
  EXPECT_TRUE(rt_->removeContainer(c.id(), true).isOk());  // unknown: success
}

// Podman's State.OOMKilled stays false; the cgroup's oom_kill counter, read at a sample, tells.
TEST_F(PodmanEngineTest, AnOomKillSeenInTheCgroupIsReportedByInspect) {
  // dd's 64 MiB buffer exceeds the 16 MiB limit; its oom_score_adj of 1000 makes it the kernel's
  // choice (left to itself, the OOM killer sometimes took PID 1, and the cgroup went with it).
  PodmanContainer c("--memory 16m --memory-swap 16m",
                    "sh -c \"echo 1000 > /proc/self/oom_score_adj; "
                    "exec dd if=/dev/zero of=/dev/null bs=64M count=1\"; echo survived; sleep 60");
  ASSERT_FALSE(c.id().empty());
  ASSERT_TRUE(zc::testing::waitFor(
      [&] {
        std::string out;
        podman("logs " + c.name(), &out);
        return out.find("survived") != std::string::npos;
      },
      20s, 200ms));
  ASSERT_TRUE(rt_->sampleResources(c.id()).isOk());  // reads the counter while the cgroup exists
  ASSERT_EQ(podman("kill " + c.name() + " >/dev/null"), 0);
  ASSERT_TRUE(c.waitExited(20s));
  auto info = rt_->inspect(c.id());
  ASSERT_TRUE(info.isOk()) << info.status().toString();
  EXPECT_TRUE(info.value().oomKilled);
}

TEST(PodmanStartupTest, ASocketThatDoesNotAnswerFailsConfigureInOneLine) {
  zc::testing::TempDir dir;
  auto r = createRuntime({{"socket", dir.path() + "/none.sock"}});
  ASSERT_FALSE(r.isOk());
  std::string msg = r.status().toString();
  EXPECT_NE(msg.find("does not answer"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

// A Podman service of this test's own on a temporary socket, stopped by its pid.
class OwnService {
 public:
  explicit OwnService(std::string socket) : socket_(std::move(socket)) {}
  ~OwnService() { stop(); }
  bool start() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      std::string url = "unix://" + socket_;
      ::execlp("podman", "podman", "system", "service", "--time=0", url.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid_ > 0 && zc::testing::waitFor([&] { return zc::testing::socketAnswersPing(socket_); },
                                            20s, 100ms);
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

TEST_F(PodmanEngineTest, EventsReconnectAfterTheServiceRestarts) {
  zc::testing::TempDir dir;
  std::string sock = dir.path() + "/own.sock";
  OwnService svc(sock);
  ASSERT_TRUE(svc.start());
  auto rt = loadPodman({{"socket", sock}});
  ASSERT_TRUE(rt);
  RecordingEvents events;
  auto sub = rt->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk());
  ASSERT_TRUE(events.waitFor([](const auto& e) { return e.type == RuntimeEventType::kConnected; },
                             10s));
  svc.stop();
  ASSERT_TRUE(events.waitFor(
      [](const auto& e) { return e.type == RuntimeEventType::kDisconnected; }, 10s));
  ASSERT_TRUE(svc.start());
  ASSERT_TRUE(zc::testing::waitFor(
      [&] { return events.count(RuntimeEventType::kConnected) >= 2; }, 20s, 50ms));
  PodmanContainer c("", "exit 7");
  std::string id = c.id();
  plugin::RuntimeEvent die;
  ASSERT_TRUE(events.waitFor(
      [&](const auto& e) { return e.type == RuntimeEventType::kDie && e.containerId == id; }, 20s,
      &die));
  EXPECT_EQ(die.exitCode, 7);
}

}  // namespace
}  // namespace zc::podman
