// AccessControl: the checks every request passes before routing, in this order:
//   1. Host: the Host header must be one of `allowedHosts` ("name:port", compared without case);
//      otherwise 421 misdirected_request. A page that reaches the port through DNS rebinding
//      carries its own name in Host, so it reads nothing.
//   2. Slow-down: an address with more than `maxAuthFailures` failed authentications within
//      `failureWindow` gets 429 + Retry-After until that window passes (bounded table of
//      addresses; the oldest entries are evicted).
//   3. Origin: a mutating request (anything but GET/HEAD) whose Origin is not
//      "http://<an allowed host>" gets 403 forbidden_origin; without Origin, a Sec-Fetch-Site other
//      than same-origin/none does too. Clients that send neither (curl, Prometheus) pass.
//   4. Tokens (only with a tokens file): `Authorization: Bearer <token>`, or else the session
//      cookie `zc_session` made by login() (POST /api/session); none, unknown or ended is 401
//      with WWW-Authenticate: Bearer (an ended session's cookie is also cleared); a read token
//      on a mutating request is 403 insufficient_scope. GET /healthz (and /readyz) without any credential
//      passes, limited to its status. /api/session itself (login, logout, "who am I") passes
//      without a credential, its handlers answer (session_routes.cpp); so do GET /, /d/<id>
//      and /assets/<file>, the pages' static files, which hold no data and must load to show
//      their login form.
// A session is as good as its token and no better: the token's current scope applies, and the
// session ends with it (revoked from the file), at logout or after `sessionTtl`. The Origin check
// above is what keeps another site's page from using a browser's cookie (with SameSite=Strict).
// Every refused request (401/403/421/429) and every mutating request is written as one JSON line
// to the audit log (see AuditLog). No CORS headers are ever sent.
//
// Thread-safety: admit() and finish() run concurrently on the HTTP workers; reloadTokens() and
// pollTokens() may be called from any thread at the same time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zc/exporters/tokens.h"
#include "zc/status.h"

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Poco::Net

namespace zc::exporters {

class AuditLog;
class FailureLimiter;
class SessionStore;

struct AccessOptions {
  std::string tokensFile;                 // empty: no tokens, every request is anonymous
  std::vector<std::string> allowedHosts;  // "host:port" (and "host" for port 80); required
  std::string auditLog;                   // empty: no audit log
  int maxAuthFailures = 10;
  std::chrono::seconds failureWindow{60};
  size_t maxTrackedAddresses = 4096;
  std::chrono::milliseconds sessionTtl = std::chrono::hours(12);  // --session-ttl
  size_t maxSessions = 1024;  // a login beyond this ends the session that expires first
};

// The path of the session API (POST login, GET state, DELETE logout).
inline constexpr const char* kSessionPath = "/api/session";

// Whether `req` arrived over TLS; the session cookie then carries Secure. TLS HOOK: answers
// req.secure(), which the server's requests answer false while it speaks plain HTTP only; the
// one line to change if TLS is reported some other way (access_session.cpp).
bool requestIsTls(const Poco::Net::HTTPServerRequest& req) noexcept;

// A session made by AccessControl::login().
struct SessionLogin {
  std::string setCookie;  // the Set-Cookie value carrying the new session id
  std::string tokenName;
  TokenScope scope = TokenScope::kRead;
  std::chrono::system_clock::time_point expiresAt;
};

// The default allowed hosts for a server listening on listenHost:port: localhost, 127.0.0.1,
// [::1], the listen host (bracketed when IPv6, skipped when a wildcard address) and `hostname`,
// each with ":port", and also without it when the port is 80. Lower-case.
std::vector<std::string> defaultAllowedHosts(const std::string& listenHost, uint16_t port,
                                             const std::string& hostname);

// Parses "a,b:8080, c" into lower-case entries; InvalidArgument for an empty list or entry.
Result<std::vector<std::string>> parseAllowedHosts(const std::string& list);

class AccessControl {
 public:
  // Reads the tokens file (NotFound, IOError or InvalidArgument when it cannot) and opens the
  // audit log (IOError).
  static Result<std::unique_ptr<AccessControl>> create(const AccessOptions& options);
  ~AccessControl();

  bool tokensEnabled() const noexcept { return tokens_ != nullptr; }
  // Re-reads the tokens file; on failure the previous tokens stay and the error is returned (and
  // logged). OK without a tokens file.
  Status reloadTokens();
  // Re-reads the tokens file when it changed (inode, size, mtime). Logs a failure once.
  void pollTokens();

  // Runs the checks. True: the request may be routed (its requester is set, see requesterOf()).
  // False: `resp` holds the refusal.
  bool admit(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) const;
  // After the response: writes the audit line when the request was mutating or refused.
  void finish(const Poco::Net::HTTPServerRequest& req, int status) const;

  // Trades `token` for a new session (the requester of `req` becomes that token, for the
  // audit log). FailedPrecondition without a tokens file; NotFound when the token is not valid,
  // which counts toward the slow-down like a wrong Bearer token; Internal when no id could be
  // drawn.
  Result<SessionLogin> login(Poco::Net::HTTPServerRequest& req, const std::string& token) const;
  // Ends the session whose cookie `req` carries, if any; returns the Set-Cookie value that
  // clears the cookie.
  std::string logout(const Poco::Net::HTTPServerRequest& req) const;
  size_t sessionCount() const;

 private:
  AccessControl(const AccessOptions& options, std::unique_ptr<TokenStore> tokens,
                std::unique_ptr<AuditLog> audit);
  bool hostAllowed(const std::string& host) const;
  bool originAllowed(const Poco::Net::HTTPServerRequest& req) const;
  struct Credential {
    std::optional<TokenIdentity> id;  // set when the credential is valid
    bool bearer = false;              // an Authorization header was sent
    bool session = false;             // a session cookie was sent (and no Authorization)
  };
  Credential credentialOf(const Poco::Net::HTTPServerRequest& req,
                          std::chrono::steady_clock::time_point now) const;
  void dropEndedSessions() const;

  AccessOptions options_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<FailureLimiter> limiter_;
  std::unique_ptr<SessionStore> sessions_;
};

}  // namespace zc::exporters
