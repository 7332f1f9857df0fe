#include "test_support.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace zc::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/zc-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string dockerSocketPath() {
  const char* s = std::getenv("ZC_TEST_DOCKER_SOCKET");
  return s && *s ? s : "/var/run/docker.sock";
}

bool dockerRequired() {
  const char* s = std::getenv("ZC_REQUIRE_DOCKER");
  return s && std::string(s) == "1";
}

bool dockerAvailable() { return socketAnswersPing(dockerSocketPath()); }

std::string podmanSocketPath() {
  const char* s = std::getenv("ZC_TEST_PODMAN_SOCKET");
  return s && *s ? s : "/run/podman/podman.sock";
}

bool podmanRequired() {
  const char* s = std::getenv("ZC_REQUIRE_PODMAN");
  return s && std::string(s) == "1";
}

bool podmanAvailable() { return socketAnswersPing(podmanSocketPath()); }

bool socketAnswersPing(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    ::close(fd);
    return false;
  }
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char req[] = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
    if (::write(fd, req, sizeof(req) - 1) == static_cast<ssize_t>(sizeof(req) - 1)) {
      char buf[64] = {};
      ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
      ok = n > 12 && std::string(buf, n).find(" 200 ") != std::string::npos;
    }
  }
  ::close(fd);
  return ok;
}

std::string testImage() {
  const char* s = std::getenv("ZC_TEST_IMAGE");
  return s && *s ? s : "zynd-test-busybox:latest";
}

bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

namespace {

std::string dockerCommand() {
  return "DOCKER_HOST=unix://" + dockerSocketPath() + " DOCKER_BUILDKIT=0 /usr/bin/docker";
}

}  // namespace

LabelledImage::LabelledImage(const std::vector<std::pair<std::string, std::string>>& labels) {
  static std::atomic<unsigned> counter{0};
  tag_ = "zc-labelled-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ":test";
  TempDir ctx;
  std::string dockerfile = "FROM " + testImage() + "\n";
  for (const auto& [k, v] : labels) dockerfile += "LABEL " + k + "=" + v + "\n";
  {
    FILE* f = std::fopen((ctx.path() + "/Dockerfile").c_str(), "w");
    if (f == nullptr) {
      error_ = "cannot write the Dockerfile";
      return;
    }
    std::fputs(dockerfile.c_str(), f);
    std::fclose(f);
  }
  ok_ = runCommand(dockerCommand() + " build -q -t " + tag_ + " " + ctx.path() + " 2>&1", &error_) == 0;
}

LabelledImage::~LabelledImage() {
  runCommand(dockerCommand() + " rmi -f " + tag_ + " >/dev/null 2>&1");
}

int runCommand(const std::string& cmd, std::string* out) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    if (out) out->append(buf, n);
  }
  int rc = ::pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace zc::testing
