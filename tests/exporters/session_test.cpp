// Cookie sessions (zc/exporters/access.h, exporters/src/session_store.*, session_routes.*): the
// store's contract with an injected clock, then the session API on a real server with a fake
// CollectorApi: login, wrong token, cookie flags, expiry, revoke, logout, scope, bound, and the
// Origin check that guards cookie-authenticated mutations.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "exporter_fixture.h"
#include "session_store.h"
#include "zc/exporters/access.h"

namespace zc::testing {
namespace {

using exporters::SessionStore;
using exporters::TokenScope;
using std::chrono::milliseconds;

TEST(SessionCookieTest, CarriesHttpOnlyStrictPathAndSecureOnlyOverTls) {
  EXPECT_EQ(exporters::sessionCookie("zcs_x", std::chrono::seconds(43200), false),
            "zc_session=zcs_x; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(exporters::sessionCookie("zcs_x", std::chrono::seconds(5), true),
            "zc_session=zcs_x; Max-Age=5; Path=/; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(exporters::clearedSessionCookie(false),
            "zc_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
}

TEST(SessionCookieTest, IdIsReadFromACookieHeader) {
  EXPECT_EQ(exporters::sessionIdFromCookies("a=1; zc_session=zcs_abc; b=2"), "zcs_abc");
  EXPECT_EQ(exporters::sessionIdFromCookies("zc_session=\"zcs_q\""), "zcs_q");
  EXPECT_EQ(exporters::sessionIdFromCookies("xzc_session=1; zc_sessionx=2"), "");
  EXPECT_EQ(exporters::sessionIdFromCookies(""), "");
}

TEST(SessionStoreTest, IdsAreRandomAndLiveUntilTheTtl) {
  SessionStore store(milliseconds(1000), 10);
  const auto t0 = SessionStore::Clock::now();
  auto a = store.create("ops", std::string(64, 'a'), t0);
  auto b = store.create("ops", std::string(64, 'a'), t0);
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(a->size(), 4u + 64u);  // "zcs_" + 256 bits in hex
  EXPECT_NE(*a, *b);
  auto s = store.find(*a, t0 + milliseconds(999));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->tokenName, "ops");
  EXPECT_FALSE(store.find(*a, t0 + milliseconds(1000)).has_value());
  EXPECT_EQ(store.size(), 1u);  // the expired one is gone
  EXPECT_FALSE(store.find("zcs_" + std::string(64, '0'), t0).has_value());
  EXPECT_FALSE(store.find("", t0).has_value());
  EXPECT_TRUE(store.remove(*b));
  EXPECT_FALSE(store.remove(*b));
}

TEST(SessionStoreTest, BoundedTheFirstToExpireMakesRoom) {
  SessionStore store(milliseconds(60'000), 3);
  const auto t0 = SessionStore::Clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(*store.create("u", "h", t0 + milliseconds(i)));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.find(ids[0], t0).has_value());
  EXPECT_FALSE(store.find(ids[1], t0).has_value());
  EXPECT_TRUE(store.find(ids[4], t0).has_value());
}

TEST(SessionStoreTest, RetainIfEndsTheSessionsOfRevokedTokens) {
  SessionStore store(milliseconds(60'000), 10);
  const auto t0 = SessionStore::Clock::now();
  auto keep = *store.create("a", "ha", t0);
  auto gone = *store.create("b", "hb", t0);
  EXPECT_EQ(store.retainIf([](const std::string& h) { return h == "ha"; }), 1u);
  EXPECT_TRUE(store.find(keep, t0).has_value());
  EXPECT_FALSE(store.find(gone, t0).has_value());
}

class SessionApiTest : public ::testing::Test {
 protected:
  void start(bool withTokens, milliseconds ttl = std::chrono::hours(12), size_t maxSessions = 64,
             int maxFailures = 10) {
    exporters::AccessOptions o;
    if (withTokens) {
      o.tokensFile = dir_.path() + "/tokens";
      ASSERT_TRUE(exporters::writeTokensFile(
                      o.tokensFile, {{"reader", TokenScope::kRead, exporters::sha256Hex(kRead)},
                                     {"ops", TokenScope::kOperate, exporters::sha256Hex(kOperate)}})
                      .isOk());
    }
    o.auditLog = dir_.path() + "/audit.log";
    o.allowedHosts = {"127.0.0.1:1"};
    o.sessionTtl = ttl;
    o.maxSessions = maxSessions;
    o.maxAuthFailures = maxFailures;
    auto ac = exporters::AccessControl::create(o);
    ASSERT_TRUE(ac.isOk()) << ac.status().toString();
    access_ = std::move(ac).value();
    exporters::ExporterOptions eo;
    eo.access = access_.get();
    stack_ = std::make_unique<ExporterStack>(eo);
    stack_->api->addDeployment("d1");
  }
  HttpReply login(const std::string& body, const std::string& extraHeaders = "") {
    return rawRequest(stack_->port(), "POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                          extraHeaders + "Content-Type: application/json\r\n" +
                                          "Content-Length: " + std::to_string(body.size()) +
                                          "\r\nConnection: close\r\n\r\n" + body);
  }
  // The "zc_session=<id>" pair of a successful login.
  std::string loginCookie(const std::string& token) {
    HttpReply r = login("{\"token\":\"" + token + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    const std::string set = r.header("set-cookie");
    return set.substr(0, set.find(';'));
  }
  HttpReply withCookie(const std::string& method, const std::string& target,
                       const std::string& cookie,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    headers.emplace_back("Cookie", "theme=dark; " + cookie);
    return httpRequest(stack_->port(), method, target, headers);
  }
  std::string audit() {
    std::ifstream in(dir_.path() + "/audit.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static constexpr const char* kRead = "zct_read_secret";
  static constexpr const char* kOperate = "zct_operate_secret";
  TempDir dir_;
  std::unique_ptr<exporters::AccessControl> access_;
  std::unique_ptr<ExporterStack> stack_;
};

TEST_F(SessionApiTest, LoginSetsAStrictHttpOnlyCookieThatAuthenticates) {
  start(true);
  HttpReply state = httpRequest(stack_->port(), "GET", "/api/session");
  EXPECT_EQ(state.status, 200);
  EXPECT_EQ(state.body, R"({"tokens":true,"loggedIn":false,"token":null,"scope":null})");

  HttpReply r = login(std::string("{\"token\":\"") + kRead + "\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string set = r.header("set-cookie");
  EXPECT_EQ(set.rfind("zc_session=zcs_", 0), 0u) << set;
  EXPECT_NE(set.find("; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set.find("Secure"), std::string::npos) << "plain HTTP: no Secure";
  EXPECT_NE(r.body.find(R"("loggedIn":true,"token":"reader","scope":"read","expiresAt":")"),
            std::string::npos)
      << r.body;
  // The token is not the cookie, and the cookie is stored only as a hash.
  EXPECT_EQ(set.find(kRead), std::string::npos);

  const std::string cookie = set.substr(0, set.find(';'));
  EXPECT_EQ(withCookie("GET", "/api/deployments", cookie).status, 200);
  EXPECT_EQ(withCookie("GET", "/metrics", cookie).status, 200);
  state = withCookie("GET", "/api/session", cookie);
  EXPECT_EQ(state.body, R"({"tokens":true,"loggedIn":true,"token":"reader","scope":"read"})");
  EXPECT_EQ(httpRequest(stack_->port(), "GET", "/api/deployments").status, 401);
}

TEST_F(SessionApiTest, WrongTokenIs401AndCountsTowardTheSlowDown) {
  start(true, std::chrono::hours(12), 64, 2);
  for (int i = 0; i < 3; ++i) {
    HttpReply r = login(R"({"token":"zct_wrong"})");
    EXPECT_EQ(r.status, 401) << i;
    EXPECT_NE(r.body.find("\"error\":\"unauthorized\""), std::string::npos) << r.body;
    EXPECT_EQ(r.header("set-cookie"), "");
  }
  HttpReply r = login(std::string("{\"token\":\"") + kOperate + "\"}");
  EXPECT_EQ(r.status, 429) << "the right token waits too";
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_EQ(access_->sessionCount(), 0u);
}

TEST_F(SessionApiTest, BadBodiesAre400WithAJsonError) {
  start(true);
  for (const std::string body : {"", "not json", "[]", R"({"token":5})", R"({"x":"y"})",
                                 R"({"token":""})", R"("zct_read_secret")"}) {
    HttpReply r = login(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find("\"error\":\"bad_request\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(access_->sessionCount(), 0u);
}

TEST_F(SessionApiTest, AnExpiredSessionIs401AndItsCookieIsCleared) {
  start(true, milliseconds(300));
  const std::string cookie = loginCookie(kRead);
  EXPECT_EQ(withCookie("GET", "/api/deployments", cookie).status, 200);
  std::this_thread::sleep_for(milliseconds(400));
  HttpReply r = withCookie("GET", "/api/deployments", cookie);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.header("set-cookie").find("zc_session=; Max-Age=0"), std::string::npos);
  EXPECT_EQ(access_->sessionCount(), 0u);
}

TEST_F(SessionApiTest, RevokingTheTokenEndsItsSessions) {
  start(true);
  const std::string ops = loginCookie(kOperate);
  const std::string reader = loginCookie(kRead);
  ASSERT_TRUE(exporters::writeTokensFile(dir_.path() + "/tokens", {{"reader", TokenScope::kRead,
                                                                    exporters::sha256Hex(kRead)}})
                  .isOk());
  ASSERT_TRUE(access_->reloadTokens().isOk());
  EXPECT_EQ(access_->sessionCount(), 1u);
  EXPECT_EQ(withCookie("GET", "/api/deployments", ops).status, 401);
  EXPECT_EQ(withCookie("DELETE", "/api/deployments/d1", ops).status, 401);
  EXPECT_EQ(withCookie("GET", "/api/deployments", reader).status, 200);
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  // A token re-added under the same name is a new secret: the old session stays ended.
  ASSERT_TRUE(exporters::writeTokensFile(
                  dir_.path() + "/tokens",
                  {{"ops", TokenScope::kOperate, exporters::sha256Hex("zct_new_secret")}})
                  .isOk());
  access_->pollTokens();
  EXPECT_EQ(withCookie("GET", "/api/deployments", ops).status, 401);
  EXPECT_EQ(access_->sessionCount(), 0u);
}

TEST_F(SessionApiTest, LogoutEndsTheSessionAndClearsTheCookie) {
  start(true);
  const std::string cookie = loginCookie(kRead);
  HttpReply r = withCookie("DELETE", "/api/session", cookie);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("set-cookie"), "zc_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
  EXPECT_EQ(r.body, R"({"tokens":true,"loggedIn":false,"token":null,"scope":null})");
  EXPECT_EQ(access_->sessionCount(), 0u);
  EXPECT_EQ(withCookie("GET", "/api/deployments", cookie).status, 401);
}

TEST_F(SessionApiTest, AReadSessionCannotStopAnOperateSessionCanAndTheAuditNamesIt) {
  start(true);
  HttpReply r = withCookie("DELETE", "/api/deployments/d1", loginCookie(kRead));
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("insufficient_scope"), std::string::npos);
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  r = withCookie("DELETE", "/api/deployments/d1", loginCookie(kOperate),
                 {{"Origin", "http://127.0.0.1:1"}});
  EXPECT_EQ(r.status, 202) << r.body;
  auto stops = stack_->api->stopRequests();
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].tokenName, "ops");
  EXPECT_NE(
      audit().find(R"("token":"ops","method":"DELETE","path":"/api/deployments/d1","status":202)"),
      std::string::npos)
      << audit();
  EXPECT_NE(audit().find(R"("token":"ops","method":"POST","path":"/api/session","status":200)"),
            std::string::npos)
      << audit();
}

TEST_F(SessionApiTest, ACookieMutationFromAnotherOriginIs403) {
  start(true);
  const std::string cookie = loginCookie(kOperate);
  for (const auto& h :
       std::vector<std::pair<std::string, std::string>>{{"Origin", "http://127.0.0.1:9"},
                                                        {"Origin", "http://evil.example"},
                                                        {"Origin", "null"},
                                                        {"Sec-Fetch-Site", "cross-site"},
                                                        {"Sec-Fetch-Site", "same-site"}}) {
    HttpReply r = withCookie("DELETE", "/api/deployments/d1", cookie, {h});
    EXPECT_EQ(r.status, 403) << h.first << ": " << h.second;
    EXPECT_NE(r.body.find("forbidden_origin"), std::string::npos);
  }
  EXPECT_TRUE(stack_->api->stopRequests().empty());
  // Logging in and out from another origin is refused the same way.
  EXPECT_EQ(
      login(std::string("{\"token\":\"") + kRead + "\"}", "Origin: http://evil.example\r\n").status,
      403);
  EXPECT_EQ(
      withCookie("DELETE", "/api/session", cookie, {{"Origin", "http://evil.example"}}).status,
      403);
  EXPECT_EQ(access_->sessionCount(), 1u);
}

TEST_F(SessionApiTest, SessionsAreBounded) {
  start(true, std::chrono::hours(12), 3);
  std::vector<std::string> cookies;
  for (int i = 0; i < 5; ++i) cookies.push_back(loginCookie(kRead));
  EXPECT_EQ(access_->sessionCount(), 3u);
  EXPECT_EQ(withCookie("GET", "/api/deployments", cookies[0]).status, 401);
  EXPECT_EQ(withCookie("GET", "/api/deployments", cookies[4]).status, 200);
}

TEST_F(SessionApiTest, WithoutTokensThereIsNothingToLogInTo) {
  start(false);
  HttpReply r = httpRequest(stack_->port(), "GET", "/api/session");
  EXPECT_EQ(r.body, R"({"tokens":false,"loggedIn":false,"token":null,"scope":null})");
  EXPECT_EQ(login(R"({"token":"x"})").status, 404);
  EXPECT_EQ(httpRequest(stack_->port(), "DELETE", "/api/session").status, 200);
}

TEST_F(SessionApiTest, OnlyThePagesStaticFilesLoadWithoutACredential) {
  start(true);
  // No web dir in this stack: the pages answer 404, but they are not refused with 401.
  for (const char* target : {"/", "/d/d1", "/assets/app.js"}) {
    EXPECT_EQ(httpRequest(stack_->port(), "GET", target).status, 404) << target;
  }
  for (const char* target : {"/d/d1/x", "/assets/a/b", "/api/deployments", "/api/ports",
                             "/api/deployments/d1/logs/stream", "/metrics"}) {
    EXPECT_EQ(httpRequest(stack_->port(), "GET", target).status, 401) << target;
  }
  EXPECT_EQ(httpRequest(stack_->port(), "DELETE", "/d/d1").status, 401);
}

TEST_F(SessionApiTest, SecurityHeadersOnApiAnswersToo) {
  start(true);
  HttpReply r = httpRequest(stack_->port(), "GET", "/api/deployments");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("content-security-policy"), "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
}

}  // namespace
}  // namespace zc::testing
