// The checks before routing (zc/exporters/access.h) on a real server with a fake CollectorApi:
// tokens and scopes, Host (421), Origin and Sec-Fetch-Site (403), the slow-down (429), the audit
// log and the requester handed to a stop.
#include "zc/exporters/access.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>

#include "access_limiter.h"
#include "exporter_fixture.h"

namespace zc::testing {
namespace {

using exporters::TokenScope;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

class AccessTest : public ::testing::Test {
 protected:
  void start(bool withTokens, int maxFailures = 10) {
    exporters::AccessOptions o;
    if (withTokens) {
      o.tokensFile = dir_.path() + "/tokens";
      ASSERT_TRUE(exporters::writeTokensFile(
                      o.tokensFile, {{"reader", TokenScope::kRead, exporters::sha256Hex(kRead)},
                                     {"ops", TokenScope::kOperate, exporters::sha256Hex(kOperate)}})
                      .isOk());
    }
    o.auditLog = dir_.path() + "/audit.log";
    o.maxAuthFailures = maxFailures;
    // The port is known only once bound; "127.0.0.1" without a port also matches (see access.h).
    o.allowedHosts = {"127.0.0.1:1", "localhost:1"};
    auto ac = exporters::AccessControl::create(o);
    ASSERT_TRUE(ac.isOk()) << ac.status().toString();
    access_ = std::move(ac).value();
    exporters::ExporterOptions eo;
    eo.access = access_.get();
    stack_ = std::make_unique<ExporterStack>(eo);
    stack_->api->addDeployment("d1");
  }
  HttpReply get(const std::string& target, const std::string& token = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    return httpRequest(stack_->port(), "GET", target, h);
  }
  HttpReply del(const std::string& target,
                std::vector<std::pair<std::string, std::string>> h = {}) {
    return httpRequest(stack_->port(), "DELETE", target, h);
  }
  std::string audit() { return readFile(dir_.path() + "/audit.log"); }

  static constexpr const char* kRead = "zct_read_secret";
  static constexpr const char* kOperate = "zct_operate_secret";
  TempDir dir_;
  std::unique_ptr<exporters::AccessControl> access_;
  std::unique_ptr<ExporterStack> stack_;
};

TEST_F(AccessTest, WithoutTokensEverythingIsServedAsBefore) {
  start(false);
  EXPECT_EQ(get("/api/deployments").status, 200);
  EXPECT_EQ(del("/api/deployments/d1").status, 202);
  auto stops = stack_->api->stopRequests();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].tokenName, "");
  EXPECT_EQ(stops[0].address, "127.0.0.1");
}

TEST_F(AccessTest, MissingOrWrongTokenIs401WithChallenge) {
  start(true);
  for (const std::string& token : {std::string(), std::string("zct_wrong")}) {
    HttpReply r = get("/api/deployments", token);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("www-authenticate"), "Bearer");
    EXPECT_NE(r.body.find("\"error\":\"unauthorized\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(
      httpRequest(stack_->port(), "GET", "/metrics", {{"Authorization", "Basic eDp5"}}).status,
      401);
  EXPECT_EQ(del("/api/deployments/d1").status, 401);
  EXPECT_TRUE(stack_->api->stopRequests().empty());
}

TEST_F(AccessTest, RefusedRequestsAreCountedInTheHttpMetricsByRoute) {
  start(true);
  EXPECT_EQ(get("/api/deployments").status, 401);
  EXPECT_EQ(del("/api/deployments/d1", {{"Authorization", std::string("Bearer ") + kRead}}).status,
            403);
  std::string t = get("/metrics", kRead).body;
  EXPECT_NE(t.find("zynd_collector_http_requests_total{code=\"401\",method=\"GET\","
                   "route=\"/api/deployments\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("zynd_collector_http_requests_total{code=\"403\",method=\"DELETE\","
                   "route=\"/api/deployments/{id}\"} 1\n"),
            std::string::npos)
      << t;
}

TEST_F(AccessTest, ScopesDecideWhatATokenMayDo) {
  start(true);
  EXPECT_EQ(get("/api/deployments", kRead).status, 200);
  EXPECT_EQ(get("/metrics", kRead).status, 200);
  EXPECT_EQ(get("/api/deployments/d1/logs", kOperate).status, 200);
  HttpReply r = del("/api/deployments/d1", {{"Authorization", std::string("Bearer ") + kRead}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("insufficient_scope"), std::string::npos);
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  r = del("/api/deployments/d1", {{"Authorization", std::string("Bearer ") + kOperate}});
  EXPECT_EQ(r.status, 202) << r.body;
  auto stops = stack_->api->stopRequests();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].tokenName, "ops");
  EXPECT_EQ(stops[0].address, "127.0.0.1");
}

TEST_F(AccessTest, HealthzWithoutTokenAnswersOnlyItsStatus) {
  start(true);
  HttpReply r = get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"status\":\"ok\"}");
  r = get("/healthz", kRead);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"version\""), std::string::npos);
  EXPECT_EQ(get("/healthz", "zct_wrong").status, 401);
}

// A readiness probe carries no token either.
TEST_F(AccessTest, ReadyzAnswersWithoutAToken) {
  start(true);
  HttpReply r = get("/readyz");
  EXPECT_TRUE(r.status == 200 || r.status == 503) << r.status;
  EXPECT_NE(r.body.find("\"ready\""), std::string::npos) << r.body;
  EXPECT_EQ(get("/readyz", "zct_wrong").status, 401);
}

TEST_F(AccessTest, DnsRebindingHostIs421AndStopsNothing) {
  start(false);
  const std::string port = std::to_string(stack_->port());
  HttpReply r =
      rawRequest(stack_->port(),
                 "DELETE /api/deployments/d1 HTTP/1.1\r\nHost: evil.example:" + port +
                     "\r\nOrigin: http://evil.example:" + port + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 421);
  EXPECT_NE(r.body.find("\"error\":\"misdirected_request\""), std::string::npos) << r.body;
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  r = rawRequest(stack_->port(), "GET /api/deployments HTTP/1.1\r\nHost: evil.example:" + port +
                                     "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 421);
  EXPECT_EQ(r.body.find("d1"), std::string::npos);
  // An allowed name with another port is another origin too.
  r = rawRequest(stack_->port(),
                 "GET /api/deployments HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 421);
  EXPECT_EQ(r.header("access-control-allow-origin"), "");
}

TEST_F(AccessTest, CrossOriginMutationsAre403AndNoOriginPasses) {
  start(false);
  HttpReply r = del("/api/deployments/d1", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("forbidden_origin"), std::string::npos);
  EXPECT_EQ(del("/api/deployments/d1", {{"Sec-Fetch-Site", "cross-site"}}).status, 403);
  EXPECT_EQ(del("/api/deployments/d1", {{"Origin", "null"}}).status, 403);
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  EXPECT_EQ(del("/api/deployments/d1", {{"Origin", "http://localhost:1"}}).status, 202);
  EXPECT_EQ(del("/api/deployments/d1", {{"Sec-Fetch-Site", "same-origin"}}).status, 202);
  EXPECT_EQ(del("/api/deployments/d1").status, 202);
  // A GET from another origin is not a mutation (the browser cannot read it without CORS).
  EXPECT_EQ(
      httpRequest(stack_->port(), "GET", "/api/deployments", {{"Origin", "http://evil.example"}})
          .status,
      200);
}

TEST_F(AccessTest, RepeatedFailuresFromOneAddressAre429) {
  start(true, 3);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(get("/api/deployments", "zct_wrong").status, 401);
  HttpReply r = get("/api/deployments", kRead);  // even the right token waits
  EXPECT_EQ(r.status, 429);
  int retry = std::atoi(r.header("retry-after").c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 60);
  EXPECT_NE(r.body.find("too_many_requests"), std::string::npos);
}

TEST_F(AccessTest, AuditLinesAreJsonWithEveryField) {
  start(true);
  get("/api/deployments");                                                             // 401
  del("/api/deployments/d1", {{"Authorization", std::string("Bearer ") + kRead}});     // 403
  del("/api/deployments/d1", {{"Authorization", std::string("Bearer ") + kOperate}});  // 202
  get("/api/deployments", kRead);  // 200 GET: not audited
  auto all = lines(audit());
  ASSERT_EQ(all.size(), 3u) << audit();
  const int statuses[] = {401, 403, 202};
  const char* tokens[] = {nullptr, "reader", "ops"};
  for (size_t i = 0; i < all.size(); ++i) {
    Poco::JSON::Parser p;
    auto o = p.parse(all[i]).extract<Poco::JSON::Object::Ptr>();
    EXPECT_TRUE(parseRfc3339(o->getValue<std::string>("time")).isOk());
    EXPECT_EQ(o->getValue<std::string>("peer"), "127.0.0.1");
    EXPECT_EQ(o->getValue<int>("status"), statuses[i]);
    if (tokens[i] == nullptr) {
      EXPECT_TRUE(o->isNull("token"));
    } else {
      EXPECT_EQ(o->getValue<std::string>("token"), tokens[i]);
    }
    EXPECT_FALSE(o->getValue<std::string>("method").empty());
    EXPECT_EQ(o->getValue<std::string>("path").rfind("/api/deployments", 0), 0u);
  }
}

TEST_F(AccessTest, TokensReloadAfterRevoke) {
  start(true);
  EXPECT_EQ(get("/api/deployments", kRead).status, 200);
  ASSERT_TRUE(
      exporters::writeTokensFile(dir_.path() + "/tokens",
                                 {{"ops", TokenScope::kOperate, exporters::sha256Hex(kOperate)}})
          .isOk());
  ASSERT_TRUE(access_->reloadTokens().isOk());
  EXPECT_EQ(get("/api/deployments", kRead).status, 401);
  EXPECT_EQ(get("/api/deployments", kOperate).status, 200);
}

TEST(AllowedHostsTest, DefaultsCoverLoopbackTheListenHostAndTheMachine) {
  auto hosts = exporters::defaultAllowedHosts("10.1.2.3", 7070, "Box");
  for (const char* h :
       {"localhost:7070", "127.0.0.1:7070", "[::1]:7070", "10.1.2.3:7070", "box:7070"}) {
    EXPECT_NE(std::find(hosts.begin(), hosts.end(), h), hosts.end()) << h;
  }
  EXPECT_EQ(std::find(hosts.begin(), hosts.end(), "localhost"), hosts.end());
  auto on80 = exporters::defaultAllowedHosts("::", 80, "box");
  EXPECT_NE(std::find(on80.begin(), on80.end(), "localhost"), on80.end());
  EXPECT_NE(std::find(on80.begin(), on80.end(), "localhost:80"), on80.end());
  EXPECT_EQ(std::find(on80.begin(), on80.end(), "[::]:80"), on80.end());
  EXPECT_FALSE(exporters::parseAllowedHosts("a,,b").isOk());
  auto parsed = exporters::parseAllowedHosts("A.example:7070, b");
  ASSERT_TRUE(parsed.isOk());
  EXPECT_EQ(*parsed, (std::vector<std::string>{"a.example:7070", "b"}));
}

TEST(FailureLimiterTest, BlocksAfterTheLimitUntilTheWindowPassesAndStaysBounded) {
  using Clock = exporters::FailureLimiter::Clock;
  exporters::FailureLimiter lim(2, std::chrono::seconds(60), 3);
  auto t0 = Clock::now();
  for (int i = 0; i < 2; ++i) lim.recordFailure("a", t0);
  EXPECT_EQ(lim.blockedFor("a", t0), 0);
  lim.recordFailure("a", t0 + std::chrono::seconds(1));
  EXPECT_EQ(lim.blockedFor("a", t0 + std::chrono::seconds(1)), 59);
  EXPECT_EQ(lim.blockedFor("b", t0), 0);
  EXPECT_EQ(lim.blockedFor("a", t0 + std::chrono::seconds(60)), 0);
  for (int i = 0; i < 10; ++i) lim.recordFailure("addr" + std::to_string(i), t0);
  EXPECT_LE(lim.tracked(), 3u);
}

}  // namespace
}  // namespace zc::testing
