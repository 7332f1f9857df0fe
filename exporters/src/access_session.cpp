// The session side of AccessControl (zc/exporters/access.h): login, logout and the sessions'
// end when their token leaves the file. The checks themselves are in access_control.cpp.
#include <Poco/Net/HTTPServerRequest.h>

#include "access_limiter.h"
#include "poco_adapters.h"
#include "session_store.h"
#include "zc/exporters/access.h"

namespace zc::exporters {

bool requestIsTls(const Poco::Net::HTTPServerRequest& req) noexcept {
  // Poco's own accessor: the server's requests answer false while it speaks plain HTTP only, and
  // whether the connection is TLS once it can be (the same as the server's isTls(req)).
  return req.secure();
}

Result<SessionLogin> AccessControl::login(Poco::Net::HTTPServerRequest& req,
                                          const std::string& token) const {
  if (!tokens_) return Status::failedPrecondition("tokens are off: there is nothing to log in to");
  const auto now = SessionStore::Clock::now();
  const std::string hash = sha256Hex(token);
  std::optional<TokenIdentity> id = tokens_->verifyHash(hash);
  auto* impl = dynamic_cast<ServerRequest*>(&req);
  if (!id) {
    limiter_->recordFailure(req.clientAddress().host().toString(), now);
    return Status::notFound("the token is not valid");
  }
  ZC_ASSIGN_OR_RETURN(std::string sessionId, sessions_->create(id->name, hash, now));
  if (impl != nullptr) {
    impl->requester.tokenName = id->name;
    impl->requester.tokenScope = tokenScopeName(id->scope);
    impl->requester.viaSession = true;
  }
  const auto ttl = sessions_->ttl();
  // Max-Age in whole seconds, rounded up so the browser never drops the cookie before the
  // session ends here.
  const auto maxAge = std::chrono::ceil<std::chrono::seconds>(ttl);
  return SessionLogin{sessionCookie(sessionId, maxAge, requestIsTls(req)), id->name, id->scope,
                      std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(ttl)};
}

std::string AccessControl::logout(const Poco::Net::HTTPServerRequest& req) const {
  if (req.has("Cookie")) sessions_->remove(sessionIdFromCookies(req.get("Cookie")));
  return clearedSessionCookie(requestIsTls(req));
}

size_t AccessControl::sessionCount() const {
  return sessions_->size();
}

void AccessControl::dropEndedSessions() const {
  if (!tokens_) return;
  sessions_->retainIf(
      [this](const std::string& hash) { return tokens_->verifyHash(hash).has_value(); });
}

}  // namespace zc::exporters
