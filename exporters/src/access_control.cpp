#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "access_audit.h"
#include "access_limiter.h"
#include "poco_adapters.h"
#include "session_store.h"
#include "zc/exporters/access.h"
#include "zc/exporters/http_server.h"
#include "zc/exporters/json_writer.h"

namespace zc::exporters {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return std::string();
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool isSafeMethod(const std::string& method) {
  return method == "GET" || method == "HEAD";
}

std::string pathOf(const std::string& uri) {
  return uri.substr(0, uri.find('?'));
}

// GET /, /d/<id> and /assets/<file>: the pages (page_routes.h).
bool isPagePath(const std::string& path) {
  return path == "/" || (path.rfind("/d/", 0) == 0 && path.find('/', 3) == std::string::npos) ||
         (path.rfind("/assets/", 0) == 0 && path.find('/', 8) == std::string::npos);
}

// The token of "Bearer <token>" (scheme without case), empty when the header is another scheme.
std::string bearerToken(const std::string& authorization) {
  std::string v = trim(authorization);
  if (v.size() < 7 || lower(v.substr(0, 7)) != "bearer ") return std::string();
  return trim(v.substr(7));
}

}  // namespace

std::vector<std::string> defaultAllowedHosts(const std::string& listenHost, uint16_t port,
                                             const std::string& hostname) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "[::1]"};
  auto addName = [&](std::string n) {
    if (n.empty()) return;
    if (n.find(':') != std::string::npos && n.front() != '[') n = "[" + n + "]";
    n = lower(n);
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  };
  if (listenHost != "0.0.0.0" && listenHost != "::" && listenHost != "[::]") addName(listenHost);
  addName(hostname);
  std::vector<std::string> out;
  for (const auto& n : names) {
    out.push_back(n + ":" + std::to_string(port));
    if (port == 80) out.push_back(n);
  }
  return out;
}

Result<std::vector<std::string>> parseAllowedHosts(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = lower(trim(list.substr(start, comma - start)));
    if (entry.empty()) return Status::invalidArgument("'" + list + "' has an empty entry");
    if (entry.find_first_of(" \t/@") != std::string::npos) {
      return Status::invalidArgument("'" + entry + "' is not a host or host:port");
    }
    out.push_back(entry);
    start = comma + 1;
  }
  return out;
}

AccessControl::AccessControl(const AccessOptions& options, std::unique_ptr<TokenStore> tokens,
                             std::unique_ptr<AuditLog> audit)
    : options_(options),
      tokens_(std::move(tokens)),
      audit_(std::move(audit)),
      limiter_(std::make_unique<FailureLimiter>(options.maxAuthFailures, options.failureWindow,
                                                options.maxTrackedAddresses)),
      sessions_(std::make_unique<SessionStore>(options.sessionTtl, options.maxSessions)) {
  for (auto& h : options_.allowedHosts) h = lower(h);
}

AccessControl::~AccessControl() = default;

Result<std::unique_ptr<AccessControl>> AccessControl::create(const AccessOptions& options) {
  if (options.allowedHosts.empty()) return Status::invalidArgument("no allowed hosts");
  if (options.sessionTtl.count() <= 0) return Status::invalidArgument("the session TTL is not > 0");
  std::unique_ptr<TokenStore> tokens;
  if (!options.tokensFile.empty()) {
    tokens = std::make_unique<TokenStore>(options.tokensFile);
    ZC_RETURN_IF_ERROR(tokens->reload());
  }
  std::unique_ptr<AuditLog> audit;
  if (!options.auditLog.empty()) {
    ZC_ASSIGN_OR_RETURN(audit, AuditLog::open(options.auditLog));
  }
  return std::unique_ptr<AccessControl>(
      new AccessControl(options, std::move(tokens), std::move(audit)));
}

Status AccessControl::reloadTokens() {
  if (!tokens_) return Status::ok();
  Status st = tokens_->reload();
  if (st.isOk()) {
    dropEndedSessions();
    spdlog::info("tokens reloaded from {}: {} token(s)", tokens_->path(), tokens_->size());
  } else {
    spdlog::error("tokens not reloaded, the previous ones stay in force: {}", st.message());
  }
  return st;
}

void AccessControl::pollTokens() {
  if (!tokens_) return;
  const size_t before = tokens_->size();
  Status st = tokens_->reloadIfChanged();
  if (!st.isOk()) {
    spdlog::error("tokens not reloaded, the previous ones stay in force: {}", st.message());
    return;
  }
  dropEndedSessions();
  if (tokens_->size() != before) {
    spdlog::info("tokens file {} changed: {} token(s)", tokens_->path(), tokens_->size());
  }
}

// "name:port" without the port ("[::1]:7070" -> "[::1]"); `hostport` itself when it has none.
std::string withoutPort(const std::string& hostport) {
  const auto colon = hostport.rfind(':');
  const auto bracket = hostport.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
    return hostport;
  }
  return hostport.substr(0, colon);
}

bool AccessControl::hostAllowed(const std::string& host) const {
  const std::string h = lower(host);
  // A Host without a port names port 80 in a browser, which never sends it to another port: a
  // page on another origin cannot produce it here, so its name alone is checked (command-line
  // clients that omit the port keep working).
  const bool portless = withoutPort(h) == h;
  for (const auto& allowed : options_.allowedHosts) {
    if (allowed == h || (portless && withoutPort(allowed) == h)) return true;
  }
  return false;
}

bool AccessControl::originAllowed(const Poco::Net::HTTPServerRequest& req) const {
  if (req.has("Origin")) {
    const std::string origin = lower(trim(req.get("Origin")));
    if (origin.rfind("http://", 0) != 0) return false;
    return hostAllowed(origin.substr(7));
  }
  if (req.has("Sec-Fetch-Site")) {
    const std::string site = lower(trim(req.get("Sec-Fetch-Site")));
    return site == "same-origin" || site == "none";
  }
  return true;
}

AccessControl::Credential AccessControl::credentialOf(const Poco::Net::HTTPServerRequest& req,
                                                      FailureLimiter::Clock::time_point now) const {
  Credential c;
  if (req.has("Authorization")) {
    c.bearer = true;
    const std::string token = bearerToken(req.get("Authorization"));
    if (!token.empty()) c.id = tokens_->verify(token);
    return c;
  }
  const std::string id = req.has("Cookie") ? sessionIdFromCookies(req.get("Cookie")) : "";
  if (id.empty()) return c;
  c.session = true;
  auto session = sessions_->find(id, now);
  if (!session) return c;
  // The token's current scope applies; a token gone from the file ends its sessions at once,
  // even before the reload that drops them is seen here.
  c.id = tokens_->verifyHash(session->tokenHash);
  if (!c.id) sessions_->remove(id);
  return c;
}

bool AccessControl::admit(Poco::Net::HTTPServerRequest& req,
                          Poco::Net::HTTPServerResponse& resp) const {
  auto* impl = dynamic_cast<ServerRequest*>(&req);
  Requester scratch;
  Requester& who = impl != nullptr ? impl->requester : scratch;
  if (who.address.empty()) who.address = req.clientAddress().host().toString();
  const std::string& method = req.getMethod();

  if (req.has("Host") && !hostAllowed(trim(req.get("Host")))) {
    sendError(
        resp, 421, "misdirected_request",
        "this collector does not answer for host '" + req.get("Host") + "' (see --allowed-hosts)");
    return false;
  }
  const auto now = FailureLimiter::Clock::now();
  if (tokens_) {
    if (int wait = limiter_->blockedFor(who.address, now); wait > 0) {
      resp.set("Retry-After", std::to_string(wait));
      sendError(resp, 429, "too_many_requests",
                "too many failed authentications from this address; retry later");
      return false;
    }
  }
  if (!isSafeMethod(method) && !originAllowed(req)) {
    sendError(resp, 403, "forbidden_origin",
              "a request that changes state must come from the collector's own origin");
    return false;
  }
  if (!tokens_) return true;

  const std::string path = pathOf(req.getURI());
  const Credential cred = credentialOf(req, now);
  if (cred.id) {
    who.tokenName = cred.id->name;
    who.tokenScope = tokenScopeName(cred.id->scope);
    who.viaSession = cred.session;
  }
  // Login, logout and the page's "who am I" need no credential: their handlers answer. The
  // pages themselves are the same static files for everyone and hold no data (that comes from
  // the API): they must load without a credential to show the login form.
  if (path == kSessionPath || (isSafeMethod(method) && isPagePath(path))) return true;
  if (!cred.id && !cred.bearer && isSafeMethod(method) &&
      (path == "/healthz" || path == "/readyz")) {
    who.fullAccess = false;
    return true;
  }
  if (!cred.id) {
    // A wrong Bearer token is a guess; an ended session (expired, logged out, revoked) is not.
    if (cred.bearer) limiter_->recordFailure(who.address, now);
    resp.set("WWW-Authenticate", "Bearer");
    if (cred.session) resp.set("Set-Cookie", clearedSessionCookie(requestIsTls(req)));
    sendError(resp, 401, "unauthorized",
              cred.bearer    ? "the bearer token is not valid"
              : cred.session ? "the session has ended (expired, logged out or its token revoked)"
                             : "a bearer token or a session is required");
    return false;
  }
  if (!isSafeMethod(method) && cred.id->scope != TokenScope::kOperate) {
    sendError(resp, 403, "insufficient_scope", "this token's scope is read; operate is required");
    return false;
  }
  return true;
}

void AccessControl::finish(const Poco::Net::HTTPServerRequest& req, int status) const {
  if (!audit_) return;
  const bool refused = status == 401 || status == 403 || status == 421 || status == 429;
  if (!refused && isSafeMethod(req.getMethod())) return;
  const Requester& who = requesterOf(req);
  audit_->write(
      AuditEntry{who.address, who.tokenName, req.getMethod(), pathOf(req.getURI()), status});
}

}  // namespace zc::exporters
