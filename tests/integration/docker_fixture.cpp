#include "docker_fixture.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <thread>

#include "zc/clock.h"

namespace zc::testing {
namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

int docker(const std::string& args, std::string* out) {
  return runCommand("/usr/bin/docker " + args + (out ? " 2>/dev/null" : " >/dev/null 2>&1"), out);
}

std::string uniqueId(const std::string& prefix) {
  static std::mt19937_64 rng(std::random_device{}());
  return prefix + "-" + std::to_string(rng() % 1000000000);
}

TestContainer::TestContainer(const std::string& id, const std::string& script, const std::string& extra)
    : id_(id), name_("zynd-" + id) {
  ok_ = docker("run -d --name " + name_ + " --label zynd.test=1 --label zynd.kind=agent " + extra +
               " " + testImage() + " sh -c " + shellQuote(script)) == 0;
}

TestContainer::~TestContainer() { docker("rm -f " + name_); }

bool TestContainer::waitExited(std::chrono::seconds timeout) {
  return waitFor(
      [&] {
        std::string out;
        docker("inspect -f '{{.State.Running}} {{.State.Restarting}}' " + name_, &out);
        return out.rfind("false false", 0) == 0;
      },
      timeout, std::chrono::milliseconds(100));
}

Collector::Collector(const std::string& dataDir, std::vector<std::string> extraArgs)
    : port_(freePort()) {
  std::vector<std::string> args = {"--data-dir", dataDir, "--listen",
                                   "127.0.0.1:" + std::to_string(port_), "--docker-socket",
                                   dockerSocketPath()};
  args.insert(args.end(), extraArgs.begin(), extraArgs.end());
  proc_ = std::make_unique<ChildProcess>(collectorArgv(args));
}

bool Collector::waitConnected(std::chrono::milliseconds timeout) {
  return waitFor(
      [&] {
        std::string body;
        return httpGet(port_, "/healthz", &body) == 200 &&
               body.find("\"connected\":true") != std::string::npos;
      },
      timeout, std::chrono::milliseconds(50));
}

bool Collector::waitDrained(std::chrono::milliseconds timeout) {
  // Events are handled within milliseconds, but a follow that just ended may be replaced by the
  // next one (e.g. the follow begun while a container was only created): the state must hold.
  auto drainedNow = [&] {
    std::string body;
    return httpGet(port_, "/healthz", &body) == 200 &&
           body.find("\"connected\":true") != std::string::npos &&
           body.find("\"follows\":0") != std::string::npos;
  };
  int steady = 0;
  return waitFor(
      [&] {
        steady = drainedNow() ? steady + 1 : 0;
        return steady >= 8;  // 8 polls 200 ms apart
      },
      timeout, std::chrono::milliseconds(200));
}

int Collector::stop() {
  proc_->signal(SIGTERM);
  return proc_->wait(std::chrono::seconds(10));
}

std::map<std::string, std::vector<LogLine>> readStoredLinesOf(
    const std::string& dataDir, const std::vector<std::string>& ids) {
  static NullLogger logger;
  std::map<std::string, std::vector<LogLine>> out;
  host::PluginRegistry registry;
  EXPECT_TRUE(registry.scanDirectory(ZC_PLUGIN_DIR).isOk());
  EXPECT_TRUE(registry.openAll().isOk());
  plugin::PluginContext ctx;
  ctx.options["data_dir"] = dataDir;
  ctx.logger = &logger;
  ctx.clock = &systemClock();
  auto storage = registry.create<plugin::Storage>("rocksdb", ctx);
  EXPECT_TRUE(storage.isOk()) << storage.status().toString();
  if (!storage.isOk()) return out;
  Status st = (*storage)->open();
  EXPECT_TRUE(st.isOk()) << st.toString();
  if (!st.isOk()) return out;
  for (const auto& id : ids) {
    auto& lines = out[id];
    uint64_t since = 0;
    for (;;) {
      auto page = (*storage)->readLogs(id, since, 5000);
      EXPECT_TRUE(page.isOk()) << page.status().toString();
      if (!page.isOk() || page->lines.empty()) break;
      since = page->lines.back().lineNo;
      for (auto& l : page->lines) lines.push_back(std::move(l));
    }
  }
  EXPECT_TRUE((*storage)->close().isOk());
  return out;
}

std::vector<LogLine> readStoredLines(const std::string& dataDir, const std::string& id) {
  return std::move(readStoredLinesOf(dataDir, {id})[id]);
}

void expectNumberedOnce(const std::vector<LogLine>& lines, LogStream stream,
                        const std::string& prefix, int count) {
  int next = 0;
  for (const auto& l : lines) {
    if (l.stream != stream || l.text.rfind(prefix, 0) != 0) continue;
    ASSERT_EQ(l.text, prefix + std::to_string(next)) << "lineNo " << l.lineNo;
    ++next;
  }
  EXPECT_EQ(next, count) << prefix;
}

std::vector<LogLine> containerLines(const std::vector<LogLine>& lines) {
  std::vector<LogLine> out;
  for (const auto& l : lines) {
    if (l.stream != LogStream::kSystem) out.push_back(l);
  }
  return out;
}

std::string checkContiguous(const std::vector<LogLine>& lines) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].lineNo != i + 1) {
      return "lineNo " + std::to_string(lines[i].lineNo) + " at position " + std::to_string(i) +
             " (expected " + std::to_string(i + 1) + ")";
    }
  }
  return "";
}

SmallTmpfs::SmallTmpfs(const std::string& path, int megabytes) : path_(path) {
  std::filesystem::create_directories(path);
  mounted_ = runCommand("mount -t tmpfs -o size=" + std::to_string(megabytes) + "m zc-test " +
                        path + " 2>&1") == 0;
}

SmallTmpfs::~SmallTmpfs() {
  if (mounted_) runCommand("umount -l " + path_ + " 2>&1");
}

DiskFiller::DiskFiller(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return;
  thread_ = std::thread([this] {
    static const char kZeros[64 * 1024] = {};
    while (!stop_) {
      while (!stop_ && ::write(fd_, kZeros, sizeof kZeros) > 0) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

void DiskFiller::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace zc::testing
