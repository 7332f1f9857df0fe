// SessionStore: the pages' cookie sessions. A session is made by trading a valid token at
// POST /api/session: its id is 256 random bits ("zcs_" + 64 hex digits), handed to the browser
// once in a Set-Cookie and kept here only as its SHA-256, with the name and the SHA-256 of the
// token it was made from and its expiry. It ends when it expires (the TTL counts from the
// login), at logout, or when its token leaves the tokens file (retainIf() after a reload; the
// caller also checks the token at each use). The store holds at most `maxSessions`; a login
// beyond that evicts the session that expires first. Time is passed in, so tests need no
// sleeping.
//
// The cookie helpers below build and read the `zc_session` cookie: HttpOnly (no script reads
// it), SameSite=Strict (no other site's page sends it), Path=/, Max-Age, and Secure when the
// connection is TLS.
//
// Thread-safety: every method is thread-safe (one mutex; each call is O(1) except an eviction
// or retainIf(), which scan the table once).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "zc/status.h"

namespace zc::exporters {

inline constexpr const char* kSessionCookie = "zc_session";

// `zc_session=<id>; Max-Age=<seconds>; Path=/; HttpOnly; SameSite=Strict[; Secure]`.
std::string sessionCookie(const std::string& id, std::chrono::seconds maxAge, bool secure);
// The same cookie emptied with Max-Age=0: the browser drops it.
std::string clearedSessionCookie(bool secure);
// The value of `zc_session` in a Cookie header ("a=1; zc_session=x"), empty when absent.
std::string sessionIdFromCookies(const std::string& cookieHeader);

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  struct Session {
    std::string tokenName;
    std::string tokenHash;  // SHA-256 hex of the token the session was made from
    Clock::time_point expires;
  };

  SessionStore(std::chrono::milliseconds ttl, size_t maxSessions);

  // A new session for the token; returns its id (the cookie value). Internal when the random
  // generator fails.
  Result<std::string> create(const std::string& tokenName, const std::string& tokenHash,
                             Clock::time_point now);
  // The live session of `id`; nullopt when unknown or expired (an expired one is dropped).
  std::optional<Session> find(const std::string& id, Clock::time_point now);
  // Ends the session of `id`; true when there was one.
  bool remove(const std::string& id);
  // Ends every session whose token hash `keep` rejects; returns how many ended.
  size_t retainIf(const std::function<bool(const std::string& tokenHash)>& keep);
  size_t size() const;
  std::chrono::milliseconds ttl() const noexcept { return ttl_; }

 private:
  const std::chrono::milliseconds ttl_;
  const size_t maxSessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // by SHA-256 of the id; guarded by mu_
};

}  // namespace zc::exporters
