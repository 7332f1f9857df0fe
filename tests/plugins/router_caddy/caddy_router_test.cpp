// The Caddy router plugin against a real `caddy run` (label "caddy").
//
// Each test starts its own Caddy on free loopback ports with a JSON config in a temporary
// directory: the admin API (enforce_origin on, so Host and Origin are both checked), a server
// with two deployment routes carrying "@id", and a server that only pretends to be an admin API
// (to prove that answers other than Caddy's own "unknown object ID" are errors).
// Without `caddy` on PATH the tests skip, or fail when ZC_REQUIRE_CADDY=1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "router_test_helpers.h"
#include "test_support.h"

namespace zc::testing {
namespace {

using std::chrono::milliseconds;

bool caddyRequired() {
  const char* s = std::getenv("ZC_REQUIRE_CADDY");
  return s != nullptr && std::string(s) == "1";
}

// The absolute path of `caddy` on PATH, or "".
std::string findCaddy() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/caddy";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One `caddy run --config FILE` child. Killed by its pid in the destructor (SIGTERM, then SIGKILL
// after 5 s), so that a failing test never leaves it behind.
class CaddyProcess {
 public:
  CaddyProcess() = default;
  CaddyProcess(const CaddyProcess&) = delete;
  CaddyProcess& operator=(const CaddyProcess&) = delete;
  ~CaddyProcess() { stop(); }

  // Starts Caddy with HOME and XDG dirs inside `dir` (it writes nothing elsewhere); its output
  // goes to logPath().
  bool start(const std::string& caddy, const std::string& dir, const std::string& configPath) {
    logPath_ = dir + "/caddy.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, logPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {caddy, "run", "--config", configPath};
    std::vector<std::string> env = {"HOME=" + dir, "XDG_CONFIG_HOME=" + dir + "/config",
                                    "XDG_DATA_HOME=" + dir + "/data", "PATH=/usr/bin:/bin"};
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int rc = posix_spawn(&pid_, caddy.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }

  // False once the child has exited (it is then reaped).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool reaped =
        waitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, milliseconds(5000));
    if (!reaped) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  std::string log() const { return logPath_.empty() ? "" : readFile(logPath_); }

 private:
  pid_t pid_ = -1;
  std::string logPath_;
};

class CaddyRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string caddy = findCaddy();
    if (caddy.empty()) {
      if (caddyRequired()) FAIL() << "caddy required (ZC_REQUIRE_CADDY=1) but not on PATH";
      GTEST_SKIP() << "caddy not installed (apt-get install -y caddy)";
    }
    // A port picked by binding port 0 may be taken by someone else before Caddy binds it; Caddy
    // then exits at once, and the test tries again with fresh ports.
    bool up = false;
    for (int attempt = 0; attempt < 3 && !up; ++attempt) {
      adminPort_ = freeLoopbackPort();
      httpPort_ = freeLoopbackPort();
      fakePort_ = freeLoopbackPort();
      const std::string configPath = dir_.path() + "/caddy.json";
      std::ofstream(configPath) << config();
      ASSERT_TRUE(caddy_.start(caddy, dir_.path(), configPath)) << "posix_spawn " << caddy;
      const bool ready = waitFor(
          [&] {
            return !caddy_.running() || (httpGet(httpPort_, "/b").body == "route b" &&
                                         httpGet(fakePort_, "/id/x").status == 404);
          },
          milliseconds(15000), milliseconds(50));
      up = ready && caddy_.running();
      if (!up) caddy_.stop();
    }
    ASSERT_TRUE(up) << "caddy did not come up:\n" << caddy_.log();
    // Caddy serves the routes only after the admin API is up; check it answers too.
    ASSERT_EQ(adminGet("/id/zynd-a").status, 200) << adminGet("/id/zynd-a").body;

    ASSERT_TRUE(plugins_.load().isOk());
    auto router = plugins_.create({{"admin_url", adminUrl()}, {"timeout", "3s"}});
    ASSERT_TRUE(router.isOk()) << router.status().toString();
    router_ = std::move(router).value();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "--- caddy log ---\n" << caddy_.log() << "--- end ---\n";
    caddy_.stop();
  }

  std::string adminUrl() const { return "http://127.0.0.1:" + std::to_string(adminPort_); }

  // The admin API with enforce_origin refuses requests without Origin; ask it as the plugin does.
  HttpAnswer adminGet(const std::string& path) { return httpGet(adminPort_, path, adminUrl()); }

  // Caddy's JSON config: @ADMIN@, @HTTP@ and @FAKE@ become the three ports.
  std::string config() const {
    std::string c = R"({
  "admin": {"listen": "127.0.0.1:@ADMIN@", "enforce_origin": true, "config": {"persist": false}},
  "apps": {"http": {"servers": {
    "deployments": {
      "listen": ["127.0.0.1:@HTTP@"], "automatic_https": {"disable": true},
      "routes": [
        {"@id": "zynd-a", "match": [{"path": ["/a"]}],
         "handle": [{"handler": "static_response", "body": "route a"}]},
        {"@id": "zynd-b", "match": [{"path": ["/b"]}],
         "handle": [{"handler": "static_response", "body": "route b"}]}
      ]
    },
    "not_admin": {
      "listen": ["127.0.0.1:@FAKE@"], "automatic_https": {"disable": true},
      "routes": [
        {"match": [{"path": ["/id/zynd-forbidden"]}],
         "handle": [{"handler": "static_response", "status_code": 403,
                     "body": "{\"error\":\"host not allowed: x\"}"}]},
        {"match": [{"path": ["/id/zynd-broken"]}],
         "handle": [{"handler": "static_response", "status_code": 500,
                     "body": "{\"error\":\"unknown object ID 'zynd-broken'\"}"}]},
        {"match": [{"path": ["/id/*"]}],
         "handle": [{"handler": "static_response", "status_code": 404,
                     "body": "404 page not found"}]}
      ]
    }
  }}}
})";
    auto put = [&c](const std::string& key, uint16_t port) {
      for (size_t at; (at = c.find(key)) != std::string::npos;) {
        c.replace(at, key.size(), std::to_string(port));
      }
    };
    put("@ADMIN@", adminPort_);
    put("@HTTP@", httpPort_);
    put("@FAKE@", fakePort_);
    return c;
  }

  TempDir dir_;
  CaddyProcess caddy_;
  uint16_t adminPort_ = 0, httpPort_ = 0, fakePort_ = 0;
  CaddyPluginFixture plugins_;
  host::PluginPtr<plugin::Router> router_;
};

TEST_F(CaddyRouterTest, RemoveRouteDeletesOnlyThatRoute) {
  ASSERT_EQ(httpGet(httpPort_, "/a").body, "route a");

  Status s = router_->removeRoute("zynd-a");
  ASSERT_TRUE(s.isOk()) << s.toString();

  HttpAnswer gone = adminGet("/id/zynd-a");
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(gone.body, "{\"error\":\"unknown object ID 'zynd-a'\"}\n");  // Caddy 2.6.2
  EXPECT_NE(httpGet(httpPort_, "/a").body, "route a");
  EXPECT_EQ(adminGet("/id/zynd-b").status, 200);
  EXPECT_EQ(httpGet(httpPort_, "/b").body, "route b");
}

TEST_F(CaddyRouterTest, RemovingTwiceSucceeds) {
  ASSERT_TRUE(router_->removeRoute("zynd-a").isOk());
  Status again = router_->removeRoute("zynd-a");
  EXPECT_TRUE(again.isOk()) << again.toString();
  Status never = router_->removeRoute("zynd-never-existed.v2");
  EXPECT_TRUE(never.isOk()) << never.toString();
  EXPECT_EQ(httpGet(httpPort_, "/b").body, "route b");
}

TEST_F(CaddyRouterTest, AdminDownIsUnavailable) {
  caddy_.stop();
  Status s = router_->removeRoute("zynd-a");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.toString();
  EXPECT_NE(s.message().find("connection refused"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

TEST_F(CaddyRouterTest, InvalidIdsAreInvalidArgumentAndTouchNothing) {
  const std::string bad[] = {
      "",       "..",       "zynd-a/../zynd-b",         "%2F",
      "zynd a", "zynd-b?x", std::string("zynd-b\0", 7), std::string(129, 'b')};
  for (const auto& id : bad) {
    EXPECT_EQ(router_->removeRoute(id).code(), Status::Code::kInvalidArgument) << id;
  }
  EXPECT_EQ(adminGet("/id/zynd-a").status, 200);
  EXPECT_EQ(adminGet("/id/zynd-b").status, 200);
}

TEST_F(CaddyRouterTest, OtherAnswersAreErrorsNotAbsentRoutes) {
  auto fake = plugins_.create({{"admin_url", "http://127.0.0.1:" + std::to_string(fakePort_)}});
  ASSERT_TRUE(fake.isOk()) << fake.status().toString();

  // A 404 whose body is not Caddy's "unknown object ID" does not mean the route is gone.
  Status notCaddy = (*fake)->removeRoute("zynd-a");
  EXPECT_EQ(notCaddy.code(), Status::Code::kFailedPrecondition) << notCaddy.toString();
  EXPECT_NE(notCaddy.message().find("404"), std::string::npos) << notCaddy.message();

  Status forbidden = (*fake)->removeRoute("zynd-forbidden");
  EXPECT_EQ(forbidden.code(), Status::Code::kFailedPrecondition) << forbidden.toString();
  EXPECT_NE(forbidden.message().find("host not allowed"), std::string::npos);

  // Caddy's words, but with a 500: an error (retry later), not success.
  Status broken = (*fake)->removeRoute("zynd-broken");
  EXPECT_EQ(broken.code(), Status::Code::kUnavailable) << broken.toString();
}

}  // namespace
}  // namespace zc::testing
