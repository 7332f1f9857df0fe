#include "engine_test_support.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include "test_support.h"
#include "zc/clock.h"

namespace zc::docker::testing {

void StderrLogger::log(plugin::LogLevel level, std::string_view message) noexcept {
  constexpr size_t kKeep = 1000;
  static std::mutex stderrMu;  // one line at a time across loggers
  {
    std::lock_guard<std::mutex> lock(stderrMu);
    static const char* kNames[] = {"debug", "info", "warn", "error"};
    std::cerr << "[runtime_docker " << kNames[static_cast<int>(level)] << "] " << message << "\n";
  }
  try {
    std::lock_guard<std::mutex> lock(mu_);
    if (kept_.size() == kKeep) kept_.erase(kept_.begin());
    kept_.emplace_back(level, std::string(message));
  } catch (const std::exception&) {
    // Only allocation can fail: the message is then not kept, as if it had scrolled away.
  }
}

size_t StderrLogger::count(plugin::LogLevel level, std::string_view part) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [l, m] : kept_) n += l == level && m.find(part) != std::string::npos;
  return n;
}

StderrLogger& logger() {
  static StderrLogger l;
  return l;
}

namespace {
const host::PluginRegistry& registry() {
  static host::PluginRegistry* r = [] {
    auto* reg = new host::PluginRegistry();  // never destroyed: plugins are never unloaded
    Status st = reg->scanDirectory(ZC_PLUGIN_DIR);
    if (st.isOk()) st = reg->openAll();
    for (const auto& ref : reg->refused()) std::cerr << "refused " << ref.path << ": " << ref.reason << "\n";
    if (!st.isOk()) std::cerr << "scan " << ZC_PLUGIN_DIR << ": " << st.toString() << "\n";
    reg->freeze();
    return reg;
  }();
  return *r;
}
}  // namespace

host::PluginPtr<plugin::Runtime> loadRuntime(std::map<std::string, std::string> options) {
  if (!options.count("socket")) options["socket"] = zc::testing::dockerSocketPath();
  plugin::PluginContext ctx;
  ctx.options = std::move(options);
  ctx.logger = &logger();
  ctx.clock = &systemClock();
  auto r = registry().create<plugin::Runtime>("docker", ctx);
  if (!r.isOk()) {
    ADD_FAILURE() << "cannot create the docker runtime: " << r.status().toString();
    return nullptr;
  }
  return std::move(r).value();
}

std::string dockerCli() {
  return "DOCKER_HOST=unix://" + zc::testing::dockerSocketPath() + " /usr/bin/docker";
}

int docker(const std::string& args, std::string* out) {
  return zc::testing::runCommand(dockerCli() + " " + args + " 2>&1", out);
}

std::string randomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(buf, 10);
}

namespace {
std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}
}  // namespace

TestContainer::TestContainer(const std::string& runArgs, const std::string& script,
                             std::string name, std::string image)
    : name_(name.empty() ? "zynd-t" + randomSuffix() : std::move(name)) {
  std::string out;
  int rc = docker("run -d --name " + name_ + " --label zynd.test=1 " + runArgs + " " +
                      (image.empty() ? zc::testing::testImage() : image) + " sh -c " +
                      shellQuote(script),
                  &out);
  if (rc != 0) {
    ADD_FAILURE() << "docker run failed: " << out;
    return;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  id_ = out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
}

TestContainer::~TestContainer() { docker("rm -f " + name_ + " >/dev/null"); }

std::string TestContainer::deploymentId() const { return name_.substr(5); }

bool TestContainer::running() const {
  std::string out;
  docker("inspect -f '{{.State.Running}}' " + name_, &out);
  return out.rfind("true", 0) == 0;
}

bool TestContainer::waitExited(std::chrono::milliseconds timeout) const {
  return zc::testing::waitFor([&] { return !running(); }, timeout, std::chrono::milliseconds(100));
}

bool RecordingConsumer::consume(plugin::LogChunk&& chunk) noexcept {
  std::chrono::milliseconds delay;
  bool more;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& l : chunk.lines) lines_.push_back(std::move(l));
    cursor_ = std::move(chunk.cursor);
    ++chunks_;
    more = chunkLimit_ == 0 || chunks_ < chunkLimit_;
    delay = delay_;
  }
  cv_.notify_all();
  if (delay.count() > 0) std::this_thread::sleep_for(delay);
  return more;
}

void RecordingConsumer::ended(Status why) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++endedCalls_;
    end_ = std::move(why);
  }
  cv_.notify_all();
}

void RecordingConsumer::setChunkLimit(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  chunkLimit_ = n;
}
void RecordingConsumer::setDelay(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = d;
}

bool RecordingConsumer::waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  // `pred` may call the accessors (which lock): poll without holding the lock.
  return zc::testing::waitFor(pred, timeout, std::chrono::milliseconds(10));
}

bool RecordingConsumer::waitLines(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return lines_.size() >= n; });
}

bool RecordingConsumer::waitEnded(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return endedCalls_ > 0; });
}

std::vector<plugin::RawLine> RecordingConsumer::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}
std::vector<std::string> RecordingConsumer::texts(LogStream s) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& l : lines_) {
    if (l.stream == s) out.push_back(l.text);
  }
  return out;
}
std::string RecordingConsumer::lastCursor() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cursor_;
}
size_t RecordingConsumer::chunks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return chunks_;
}
size_t RecordingConsumer::lineCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_.size();
}
bool RecordingConsumer::hasEnded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endedCalls_ > 0;
}
Status RecordingConsumer::endStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  return end_;
}
int RecordingConsumer::endedCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return endedCalls_;
}

void RecordingEvents::onEvent(const plugin::RuntimeEvent& e) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
  }
  cv_.notify_all();
}
std::vector<plugin::RuntimeEvent> RecordingEvents::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}
bool RecordingEvents::waitFor(const std::function<bool(const plugin::RuntimeEvent&)>& pred,
                              std::chrono::milliseconds timeout, plugin::RuntimeEvent* found) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    for (const auto& e : events_) {
      if (pred(e)) {
        if (found) *found = e;
        return true;
      }
    }
    return false;
  });
}
size_t RecordingEvents::count(plugin::RuntimeEventType t) const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& e : events_) n += e.type == t;
  return n;
}

}  // namespace zc::docker::testing
