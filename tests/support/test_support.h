// Helpers shared by the test suites: temporary directories, the Docker engine's presence, and
// waiting for a condition with a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zc/plugin/plugin.h"

namespace zc::testing {

// A plugin logger that drops everything (for plugins created by tests).
class NullLogger final : public plugin::Logger {
 public:
  void log(plugin::LogLevel, std::string_view) noexcept override {}
};

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The Docker socket tests use: $ZC_TEST_DOCKER_SOCKET or /var/run/docker.sock.
std::string dockerSocketPath();
// True when the engine answers /_ping. When it does not, tests GTEST_SKIP() unless
// ZC_REQUIRE_DOCKER=1 (set by test.sh and CI), where they fail instead.
bool dockerAvailable();
// Use at the top of a test body that needs the engine.
#define ZC_REQUIRE_DOCKER_OR_SKIP()                                                   \
  do {                                                                                \
    if (!::zc::testing::dockerAvailable()) {                                          \
      if (::zc::testing::dockerRequired()) FAIL() << "Docker engine required but not reachable"; \
      GTEST_SKIP() << "no Docker engine at " << ::zc::testing::dockerSocketPath();    \
    }                                                                                 \
  } while (0)
bool dockerRequired();

// The same for Podman's API service (scripts/start-podman.sh): $ZC_TEST_PODMAN_SOCKET or
// /run/podman/podman.sock; tests skip without it unless ZC_REQUIRE_PODMAN=1.
std::string podmanSocketPath();
bool podmanAvailable();
bool podmanRequired();
#define ZC_REQUIRE_PODMAN_OR_SKIP()                                                   \
  do {                                                                                \
    if (!::zc::testing::podmanAvailable()) {                                          \
      if (::zc::testing::podmanRequired()) FAIL() << "Podman required but not reachable"; \
      GTEST_SKIP() << "no Podman service at " << ::zc::testing::podmanSocketPath()    \
                   << " (scripts/start-podman.sh)";                                   \
    }                                                                                 \
  } while (0)

// Whether the Unix socket at `path` answers GET /_ping with 200.
bool socketAnswersPing(const std::string& path);

// The image tests run containers from (built FROM scratch with static busybox by
// scripts/build-test-image.sh): $ZC_TEST_IMAGE or "zynd-test-busybox:latest".
std::string testImage();

// An image built FROM testImage() with extra LABELs (e.g. zynd.deployment=<someone else>), tagged
// `zc-labelled-<random>:test` with the legacy builder (no registry is reachable), removed on
// destruction. Keys and values must be plain words ([A-Za-z0-9._-]).
class LabelledImage {
 public:
  explicit LabelledImage(const std::vector<std::pair<std::string, std::string>>& labels);
  ~LabelledImage();
  LabelledImage(const LabelledImage&) = delete;
  LabelledImage& operator=(const LabelledImage&) = delete;
  bool ok() const { return ok_; }
  const std::string& tag() const { return tag_; }
  // Why the build failed (docker's output), for the test's message.
  const std::string& error() const { return error_; }

 private:
  std::string tag_;
  std::string error_;
  bool ok_ = false;
};

// Polls `cond` every `step` until it is true (returns true) or `timeout` passes (returns false).
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step = std::chrono::milliseconds(20));

// Runs a shell command, returns its exit status and (optionally) its stdout.
int runCommand(const std::string& cmd, std::string* out = nullptr);

}  // namespace zc::testing
