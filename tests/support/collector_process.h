// Running the real zynd-collector binary from tests: a child process with its output captured,
// free loopback ports, and small HTTP GETs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "test_support.h"

namespace zc::testing {

// A loopback port that was free a moment ago.
uint16_t freePort();

// GET http://127.0.0.1:port/path; the status, or -1 when nothing answers.
int httpGet(uint16_t port, const std::string& path, std::string* body = nullptr);
// The same with another method (e.g. DELETE), no request body.
int httpCall(uint16_t port, const std::string& method, const std::string& path,
             std::string* body = nullptr);

// A child process (argv[0] must be a path) with stdout/stderr in files. Environment: the test's
// own minus every ZC_* variable (hermetic), plus `extraEnv`. Killed with SIGKILL on destruction
// if still running.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::vector<std::string>& extraEnv = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Waits for exit; the exit code, or -1 on timeout or death by signal.
  int wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  std::string out() const;
  std::string err() const;

 private:
  TempDir dir_;
  std::string out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// zynd-collector from the build tree with `args`.
std::vector<std::string> collectorArgv(const std::vector<std::string>& args);

// Polls /healthz until it answers 200 (body in *body) or `timeout` passes.
bool waitHealthy(uint16_t port, std::string* body = nullptr,
                 std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace zc::testing
