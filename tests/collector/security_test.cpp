// The trust boundary of the real daemon: the token command, tokens and scopes, reload on SIGHUP
// and on change, the DNS-rebinding and cross-origin refusals, the exposed-listen refusal, the
// audit log, the slow-down after failed authentication and the stop line naming its requester.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "collector_process.h"
#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/storage.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ChildProcess;
using zc::testing::collectorArgv;
using zc::testing::freePort;
using zc::testing::waitHealthy;

struct Reply {
  int status = -1;
  std::string body;
  std::string retryAfter;
  std::string challenge;
};

// One request to 127.0.0.1:port; `host` replaces the Host header when not empty.
Reply request(uint16_t port, const std::string& method, const std::string& path,
              const std::string& token = "", const std::string& host = "",
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Reply r;
  try {
    Poco::Net::HTTPClientSession s("127.0.0.1", port);
    s.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!host.empty()) req.setHost(host);
    if (!token.empty()) req.set("Authorization", "Bearer " + token);
    for (const auto& [k, v] : headers) req.set(k, v);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    std::ostringstream body;
    body << in.rdbuf();
    r.status = static_cast<int>(resp.getStatus());
    r.body = body.str();
    r.retryAfter = resp.get("Retry-After", "");
    r.challenge = resp.get("WWW-Authenticate", "");
  } catch (const Poco::Exception&) {
  }
  return r;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs `zynd-collector token ...` to its end; the exit code, stdout and stderr.
struct CommandRun {
  int code;
  std::string out, err;
};
CommandRun tokenCommand(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"token"};
  all.insert(all.end(), args.begin(), args.end());
  ChildProcess p(collectorArgv(all));
  int code = p.wait(10s);
  return CommandRun{code, p.out(), p.err()};
}

std::string lastLine(const std::string& text) {
  std::string t = text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.rfind('\n') == std::string::npos ? 0 : t.rfind('\n') + 1);
}

class SecurityTest : public ::testing::Test {
 protected:
  std::string tokens() const { return dir_.path() + "/tokens"; }
  std::string addToken(const std::string& name, const std::string& scope) {
    CommandRun r = tokenCommand({"add", name, "--scope", scope, "--tokens-file", tokens()});
    EXPECT_EQ(r.code, 0) << r.err;
    return lastLine(r.out);
  }
  // A RocksDB data folder holding one running deployment "dep-1", as a previous run left it.
  std::string seededDataDir() {
    const std::string data = dir_.path() + "/data";
    zc::host::PluginRegistry registry;
    EXPECT_TRUE(registry.scanDirectory(ZC_PLUGIN_DIR).isOk());
    EXPECT_TRUE(registry.openAll().isOk());
    zc::testing::NullLogger logger;
    zc::plugin::PluginContext ctx;
    ctx.options["data_dir"] = data;
    ctx.logger = &logger;
    ctx.clock = &zc::systemClock();
    auto s = registry.create<zc::plugin::Storage>("rocksdb", ctx);
    EXPECT_TRUE(s.isOk()) << s.status().toString();
    if (!s.isOk()) return data;
    auto storage = std::move(s).value();
    EXPECT_TRUE(storage->open().isOk());
    zc::Deployment d;
    d.id = "dep-1";
    d.name = "dep-1";
    d.status = zc::DeploymentStatus::kRunning;
    d.createdAt = zc::systemClock().now();
    EXPECT_TRUE(storage->putDeployment(d).isOk());
    EXPECT_TRUE(storage->close().isOk());
    return data;
  }
  zc::testing::TempDir dir_;
};

TEST_F(SecurityTest, TokenCommandPrintsTheSecretOnceAndStoresOnlyItsHash) {
  CommandRun add = tokenCommand({"add", "ci", "--scope", "operate", "--tokens-file", tokens()});
  ASSERT_EQ(add.code, 0) << add.err;
  const std::string secret = lastLine(add.out);
  EXPECT_GE(secret.size(), 32u + 4u);                      // at least 128 bits in hex
  EXPECT_EQ(add.out.find(secret), add.out.rfind(secret));  // printed once
  struct stat st {};
  ASSERT_EQ(::stat(tokens().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string file = readFile(tokens());
  EXPECT_EQ(file.find(secret), std::string::npos);
  EXPECT_EQ(file.find(secret.substr(4)), std::string::npos);
  EXPECT_NE(file.find("ci operate "), std::string::npos);

  ASSERT_EQ(tokenCommand({"add", "grafana", "--scope", "read", "--tokens-file", tokens()}).code, 0);
  CommandRun list = tokenCommand({"list", "--tokens-file", tokens()});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_NE(list.out.find("ci operate"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("grafana read"), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(secret.substr(4, 16)), std::string::npos);
  for (const auto& line : {file.substr(file.find("ci operate ") + 11, 64)}) {
    EXPECT_EQ(list.out.find(line), std::string::npos);  // no hash either
  }

  CommandRun revoke = tokenCommand({"revoke", "ci", "--tokens-file", tokens()});
  ASSERT_EQ(revoke.code, 0) << revoke.err;
  list = tokenCommand({"list", "--tokens-file", tokens()});
  EXPECT_EQ(list.out.find("ci "), std::string::npos) << list.out;
}

TEST_F(SecurityTest, TokenCommandRefusesBadInputWithOneLineAndExit78) {
  ASSERT_EQ(tokenCommand({"add", "ci", "--scope", "read", "--tokens-file", tokens()}).code, 0);
  std::ofstream(dir_.path() + "/broken") << "not a token line\n";
  const std::vector<std::vector<std::string>> bad = {
      {"add", "x", "--scope", "admin", "--tokens-file", tokens()},
      {"add", "x", "--tokens-file", tokens()},
      {"add", "ci", "--scope", "read", "--tokens-file", tokens()},
      {"add", "bad/name", "--scope", "read", "--tokens-file", tokens()},
      {"revoke", "nobody", "--tokens-file", tokens()},
      {"list", "--tokens-file", dir_.path() + "/broken"},
      {"frobnicate", "--tokens-file", tokens()},
  };
  for (const auto& args : bad) {
    CommandRun r = tokenCommand(args);
    EXPECT_EQ(r.code, 78) << args[0] << " " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST_F(SecurityTest, TokensScopesRebindingOriginAuditAndReload) {
  const std::string reader = addToken("grafana", "read");
  const std::string ops = addToken("ops", "operate");
  const std::string data = seededDataDir();
  const uint16_t port = freePort();
  const std::string self = "127.0.0.1:" + std::to_string(port);
  ChildProcess d(collectorArgv({"--listen", self, "--data-dir", data, "--runtime", "none",
                                "--router", "none", "--tokens-file", tokens()}));
  ASSERT_TRUE(waitHealthy(port)) << d.err();

  // /healthz alone answers without a token, with its status only.
  Reply h = request(port, "GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body == "{\"status\":\"ok\"}" || h.body == "{\"status\":\"degraded\"}") << h.body;
  EXPECT_NE(request(port, "GET", "/healthz", reader).body.find("\"version\""), std::string::npos);

  Reply r = request(port, "GET", "/api/deployments");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.challenge, "Bearer");
  EXPECT_NE(r.body.find("\"error\":\"unauthorized\""), std::string::npos);
  EXPECT_EQ(request(port, "GET", "/api/deployments", "zct_0000").status, 401);
  EXPECT_EQ(request(port, "GET", "/metrics").status, 401);
  EXPECT_EQ(request(port, "GET", "/api/deployments", reader).status, 200);
  EXPECT_EQ(request(port, "GET", "/metrics", reader).status, 200);

  r = request(port, "DELETE", "/api/deployments/dep-1", reader);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("insufficient_scope"), std::string::npos);

  // DNS rebinding: the browser sends the attacker's name as Host and Origin.
  const std::string evil = "evil.example:" + std::to_string(port);
  r = request(port, "DELETE", "/api/deployments/dep-1", ops, evil, {{"Origin", "http://" + evil}});
  EXPECT_EQ(r.status, 421);
  EXPECT_NE(r.body.find("misdirected_request"), std::string::npos);
  // A page on another origin reaching the right Host.
  r = request(port, "DELETE", "/api/deployments/dep-1", ops, "",
              {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("forbidden_origin"), std::string::npos);
  r = request(port, "GET", "/api/deployments/dep-1", reader);
  EXPECT_NE(r.body.find("\"status\":\"running\""), std::string::npos) << "stopped: " << r.body;

  // curl-like: no Origin, operate token.
  r = request(port, "DELETE", "/api/deployments/dep-1", ops);
  EXPECT_EQ(r.status, 202) << r.body;
  r = request(port, "GET", "/api/deployments/dep-1/logs?since=0", reader);
  EXPECT_NE(r.body.find("[STOP] stop requested by ops from 127.0.0.1"), std::string::npos)
      << r.body;

  // Audit: the refusals and the stop, one JSON object per line.
  std::istringstream audit(readFile(data + "/audit.log"));
  std::string line;
  std::vector<int> statuses;
  while (std::getline(audit, line)) {
    Poco::JSON::Parser p;
    Poco::JSON::Object::Ptr o;
    ASSERT_NO_THROW(o = p.parse(line).extract<Poco::JSON::Object::Ptr>()) << line;
    for (const char* k : {"time", "peer", "token", "method", "path", "status"}) {
      EXPECT_TRUE(o->has(k)) << k << " in " << line;
    }
    EXPECT_EQ(o->getValue<std::string>("peer"), "127.0.0.1");
    statuses.push_back(o->getValue<int>("status"));
    if (statuses.back() == 202) EXPECT_EQ(o->getValue<std::string>("token"), "ops");
  }
  EXPECT_EQ(statuses, (std::vector<int>{401, 401, 401, 403, 421, 403, 202}));

  // Revoked, then SIGHUP: the token is refused at once.
  ASSERT_EQ(tokenCommand({"revoke", "grafana", "--tokens-file", tokens()}).code, 0);
  d.signal(SIGHUP);
  int status = 0;
  for (int i = 0;
       i < 50 && (status = request(port, "GET", "/api/deployments", reader).status) != 401; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 401);
  // A new token is picked up by the change poll (about every second), without a signal. Waiting
  // instead of retrying: each try with a not-yet-known token is a failed authentication.
  const std::string later = addToken("later", "read");
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(request(port, "GET", "/api/deployments", later).status, 200);
  // A broken file keeps the previous tokens and logs one error.
  std::ofstream(tokens(), std::ios::app) << "this is not a token line\n";
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(request(port, "GET", "/api/deployments", later).status, 200);
  EXPECT_EQ(request(port, "GET", "/api/deployments", ops).status, 200);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0) << d.err();
  const std::string err = d.err();
  size_t errors = 0;
  for (size_t p = err.find("tokens not reloaded"); p != std::string::npos;
       p = err.find("tokens not reloaded", p + 1)) {
    ++errors;
  }
  EXPECT_EQ(errors, 1u) << err;
}

TEST_F(SecurityTest, RepeatedFailedAuthenticationIsSlowedDown) {
  addToken("ops", "operate");
  const uint16_t port = freePort();
  ChildProcess d(collectorArgv({"--listen", "127.0.0.1:" + std::to_string(port), "--storage",
                                "memory", "--runtime", "none", "--router", "none", "--data-dir",
                                dir_.path() + "/data", "--tokens-file", tokens()}));
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  for (int i = 0; i < 11; ++i) {
    EXPECT_EQ(request(port, "GET", "/api/ports", "zct_guess" + std::to_string(i)).status, 401);
  }
  Reply r = request(port, "GET", "/api/ports", "zct_guess");
  EXPECT_EQ(r.status, 429);
  EXPECT_GE(std::atoi(r.retryAfter.c_str()), 1);
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0);
  EXPECT_NE(readFile(dir_.path() + "/data/audit.log").find("\"status\":429"), std::string::npos);
}

TEST_F(SecurityTest, ExposedListenWithoutTokensIsRefusedBeforeBinding) {
  const uint16_t port = freePort();
  ChildProcess d(collectorArgv({"--listen", "0.0.0.0:" + std::to_string(port), "--storage",
                                "memory", "--runtime", "none", "--router", "none"}));
  EXPECT_EQ(d.wait(10s), 78);
  const std::string err = d.err();
  EXPECT_NE(err.find("--listen"), std::string::npos) << err;
  EXPECT_NE(err.find("--allow-unauthenticated"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST_F(SecurityTest, AMissingOrMalformedTokensFileStopsTheStartWithOneLine) {
  std::ofstream(dir_.path() + "/bad") << "ci read not-a-hash\n";
  for (const std::string& file : {dir_.path() + "/missing", dir_.path() + "/bad"}) {
    ChildProcess d(collectorArgv({"--listen", "127.0.0.1:" + std::to_string(freePort()),
                                  "--storage", "memory", "--runtime", "none", "--router", "none",
                                  "--data-dir", dir_.path() + "/data", "--tokens-file", file}));
    EXPECT_EQ(d.wait(10s), 78);
    const std::string err = d.err();
    EXPECT_NE(err.find("zynd-collector: --tokens-file: "), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST_F(SecurityTest, AllowUnauthenticatedStartsAndWarns) {
  const uint16_t port = freePort();
  ChildProcess d(collectorArgv({"--listen", "0.0.0.0:" + std::to_string(port), "--storage",
                                "memory", "--runtime", "none", "--router", "none", "--data-dir",
                                dir_.path() + "/data", "--allow-unauthenticated"}));
  ASSERT_TRUE(waitHealthy(port)) << d.err();  // asked on 127.0.0.1 only
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(10s), 0);
  EXPECT_NE(d.err().find("WITHOUT authentication"), std::string::npos) << d.err();
}

}  // namespace
