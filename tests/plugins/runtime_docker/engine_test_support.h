// Helpers for the engine tests: the runtime plugin loaded through the registry, containers that
// are always removed, and consumers that record what a follow or subscription delivered.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "zc/host/plugin_loader.h"
#include "zc/plugin/runtime.h"

namespace zc::docker::testing {

// Logs to stderr with a prefix and keeps the last messages for tests to look at; thread-safe.
class StderrLogger final : public plugin::Logger {
 public:
  void log(plugin::LogLevel level, std::string_view message) noexcept override;
  // How many kept messages of `level` contain `part`.
  size_t count(plugin::LogLevel level, std::string_view part) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<plugin::LogLevel, std::string>> kept_;  // the last kKeep messages
};

// The logger of every runtime loadRuntime() creates.
StderrLogger& logger();

// The runtime plugin zc_runtime_docker.so from ZC_PLUGIN_DIR, created with `options` (the socket
// defaults to the test socket).
host::PluginPtr<plugin::Runtime> loadRuntime(std::map<std::string, std::string> options = {});

// /usr/bin/docker with DOCKER_HOST set to the test socket.
std::string dockerCli();
// Runs a docker CLI command line; returns its exit status, stdout in *out.
int docker(const std::string& args, std::string* out = nullptr);

// A container created with `docker run -d` and removed (force) on destruction.
class TestContainer {
 public:
  // `runArgs`: extra `docker run` flags; `script`: the `sh -c` script. Named zynd-t<random>
  // (or `name` when given), labelled zynd.test=1, from the test image (or `image`).
  TestContainer(const std::string& runArgs, const std::string& script, std::string name = {},
                std::string image = {});
  ~TestContainer();
  TestContainer(const TestContainer&) = delete;
  TestContainer& operator=(const TestContainer&) = delete;
  const std::string& name() const { return name_; }
  const std::string& id() const { return id_; }
  std::string deploymentId() const;
  bool ok() const { return !id_.empty(); }
  // Waits until the container is no longer running.
  bool waitExited(std::chrono::milliseconds timeout) const;
  bool running() const;

 private:
  std::string name_;
  std::string id_;
};

std::string randomSuffix();

// Records every chunk; thread-safe.
class RecordingConsumer : public plugin::LogConsumer {
 public:
  bool consume(plugin::LogChunk&& chunk) noexcept override;
  void ended(Status why) noexcept override;

  // Stop after this many chunks (consume() returns false on the last).
  void setChunkLimit(size_t n);
  // Makes consume() sleep (back-pressure tests).
  void setDelay(std::chrono::milliseconds d);

  bool waitLines(size_t n, std::chrono::milliseconds timeout);
  bool waitEnded(std::chrono::milliseconds timeout);
  bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

  std::vector<plugin::RawLine> lines() const;
  std::vector<std::string> texts(LogStream s) const;
  std::string lastCursor() const;
  size_t chunks() const;
  size_t lineCount() const;
  bool hasEnded() const;
  Status endStatus() const;
  int endedCalls() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<plugin::RawLine> lines_;
  std::string cursor_;
  size_t chunks_ = 0;
  size_t chunkLimit_ = 0;
  std::chrono::milliseconds delay_{0};
  int endedCalls_ = 0;
  Status end_;
};

class RecordingEvents : public plugin::EventConsumer {
 public:
  void onEvent(const plugin::RuntimeEvent& e) noexcept override;
  std::vector<plugin::RuntimeEvent> events() const;
  bool waitFor(const std::function<bool(const plugin::RuntimeEvent&)>& pred,
               std::chrono::milliseconds timeout, plugin::RuntimeEvent* found = nullptr);
  size_t count(plugin::RuntimeEventType t) const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<plugin::RuntimeEvent> events_;
};

}  // namespace zc::docker::testing
