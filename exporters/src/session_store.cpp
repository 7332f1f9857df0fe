#include "session_store.h"

#include <openssl/rand.h>

#include <algorithm>

#include "zc/exporters/tokens.h"

namespace zc::exporters {
namespace {

constexpr const char* kIdPrefix = "zcs_";
constexpr size_t kIdBytes = 32;

std::string cookieAttributes(std::chrono::seconds maxAge, bool secure) {
  std::string out =
      "; Max-Age=" + std::to_string(maxAge.count()) + "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) out += "; Secure";
  return out;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return std::string();
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

}  // namespace

std::string sessionCookie(const std::string& id, std::chrono::seconds maxAge, bool secure) {
  return std::string(kSessionCookie) + "=" + id + cookieAttributes(maxAge, secure);
}

std::string clearedSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=" + cookieAttributes(std::chrono::seconds(0), secure);
}

std::string sessionIdFromCookies(const std::string& cookieHeader) {
  const std::string name = kSessionCookie;
  size_t start = 0;
  while (start <= cookieHeader.size()) {
    size_t end = cookieHeader.find(';', start);
    if (end == std::string::npos) end = cookieHeader.size();
    const std::string pair = trim(cookieHeader.substr(start, end - start));
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && trim(pair.substr(0, eq)) == name) {
      std::string value = trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
    start = end + 1;
  }
  return std::string();
}

SessionStore::SessionStore(std::chrono::milliseconds ttl, size_t maxSessions)
    : ttl_(ttl), maxSessions_(std::max<size_t>(maxSessions, 1)) {}

Result<std::string> SessionStore::create(const std::string& tokenName, const std::string& tokenHash,
                                         Clock::time_point now) {
  unsigned char bytes[kIdBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::internal("the random generator failed");
  static const char kDigits[] = "0123456789abcdef";
  std::string id = kIdPrefix;
  for (unsigned char b : bytes) {
    id += kDigits[b >> 4];
    id += kDigits[b & 0xf];
  }
  Session s{tokenName, tokenHash, now + ttl_};
  std::lock_guard lock(mu_);
  if (sessions_.size() >= maxSessions_) {
    auto first = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires < b.second.expires;
    });
    sessions_.erase(first);
  }
  sessions_[sha256Hex(id)] = std::move(s);
  return id;
}

std::optional<SessionStore::Session> SessionStore::find(const std::string& id,
                                                        Clock::time_point now) {
  if (id.rfind(kIdPrefix, 0) != 0 || id.size() != 4 + 2 * kIdBytes) return std::nullopt;
  const std::string key = sha256Hex(id);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (now >= it->second.expires) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

bool SessionStore::remove(const std::string& id) {
  if (id.empty()) return false;
  const std::string key = sha256Hex(id);
  std::lock_guard lock(mu_);
  return sessions_.erase(key) > 0;
}

size_t SessionStore::retainIf(const std::function<bool(const std::string& tokenHash)>& keep) {
  std::lock_guard lock(mu_);
  return std::erase_if(sessions_, [&](const auto& entry) { return !keep(entry.second.tokenHash); });
}

size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace zc::exporters
