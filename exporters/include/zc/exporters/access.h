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
//   4. Tokens (only with a tokens file): `Authorization: Bearer <token>`; none or unknown is 401
//      with WWW-Authenticate: Bearer; a read token on a mutating request is 403
//      insufficient_scope. GET /healthz without any Authorization passes, limited to its status.
// Every refused request (401/403/421/429) and every mutating request is written as one JSON line
// to the audit log (see AuditLog). No CORS headers are ever sent.
//
// Thread-safety: admit() and finish() run concurrently on the HTTP workers; reloadTokens() and
// pollTokens() may be called from any thread at the same time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
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

struct AccessOptions {
  std::string tokensFile;                 // empty: no tokens, every request is anonymous
  std::vector<std::string> allowedHosts;  // "host:port" (and "host" for port 80); required
  std::string auditLog;                   // empty: no audit log
  int maxAuthFailures = 10;
  std::chrono::seconds failureWindow{60};
  size_t maxTrackedAddresses = 4096;
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

 private:
  AccessControl(const AccessOptions& options, std::unique_ptr<TokenStore> tokens,
                std::unique_ptr<AuditLog> audit);
  bool hostAllowed(const std::string& host) const;
  bool originAllowed(const Poco::Net::HTTPServerRequest& req) const;

  AccessOptions options_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<FailureLimiter> limiter_;
};

}  // namespace zc::exporters
