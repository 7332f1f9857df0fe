// Access tokens: the tokens file and the in-memory store the HTTP server checks requests against.
//
// A token is a random secret shown once to the operator; only its SHA-256 is kept, with a name
// and a scope. `read` allows every GET (API, SSE, /metrics, pages); `operate` also allows the
// mutating requests (DELETE). The file is line-based, one token per line:
//
//   # comments and blank lines are ignored
//   <name> <read|operate> <sha256 of the token, 64 lower-case hex digits>
//
// Names are [A-Za-z0-9_.-]{1,64} and unique. A malformed line makes the whole file invalid, with
// one message naming the line. writeTokensFile() writes a temporary file with mode 0600 in the
// same folder and renames it over the old one, so readers see the old or the new file, never a
// partial one.
//
// Thread-safety: the free functions are pure or touch only the file they are given. TokenStore
// is thread-safe: verify() runs concurrently with reload().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zc/status.h"

namespace zc::exporters {

enum class TokenScope { kRead, kOperate };

// "read" / "operate"; parseTokenScope() answers InvalidArgument for anything else.
const char* tokenScopeName(TokenScope scope) noexcept;
Result<TokenScope> parseTokenScope(const std::string& text);

struct TokenRecord {
  std::string name;
  TokenScope scope = TokenScope::kRead;
  std::string sha256Hex;  // 64 lower-case hex digits
};

// InvalidArgument unless `name` is [A-Za-z0-9_.-]{1,64}.
Status validateTokenName(const std::string& name);

// A new secret: "zct_" + 64 hex digits (256 bits from OpenSSL's RAND_bytes). Internal when the
// random generator fails.
Result<std::string> generateToken();
// SHA-256 of `text`, 64 lower-case hex digits.
std::string sha256Hex(const std::string& text);

// The records of a file's text; InvalidArgument "line N: ..." for the first bad line.
Result<std::vector<TokenRecord>> parseTokens(const std::string& text);
std::string formatTokens(const std::vector<TokenRecord>& records);

// Reads and parses `path`; NotFound when it does not exist, IOError when it cannot be read.
Result<std::vector<TokenRecord>> readTokensFile(const std::string& path);
// Writes atomically with mode 0600 (temporary file in the same folder, fsync, rename).
Status writeTokensFile(const std::string& path, const std::vector<TokenRecord>& records);

// Who a verified token belongs to.
struct TokenIdentity {
  std::string name;
  TokenScope scope = TokenScope::kRead;
};

// The tokens of one file, re-read on demand. verify() hashes the presented token and compares it
// with every stored hash in constant time (CRYPTO_memcmp), so the time taken does not depend on
// how much of a hash matched.
class TokenStore {
 public:
  explicit TokenStore(std::string path);

  // Reads the file now. On failure the previous tokens stay in force and the status says why.
  Status reload();
  // Reloads when the file's inode, size or modification time changed since the last read
  // (checked with one stat()). Returns the reload's status, or OK when nothing changed.
  Status reloadIfChanged();
  std::optional<TokenIdentity> verify(const std::string& token) const;
  // The same check for a token known by its SHA-256 (64 lower-case hex digits), e.g. the token
  // a session was made from: nullopt once that token has left the file.
  std::optional<TokenIdentity> verifyHash(const std::string& sha256Hex) const;
  const std::string& path() const noexcept { return path_; }
  size_t size() const;

 private:
  struct FileStamp {
    ino_t inode = 0;
    off_t size = -1;
    int64_t mtimeNs = 0;
    bool operator==(const FileStamp&) const = default;
  };
  std::optional<FileStamp> stamp() const;

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<TokenRecord>> records_;  // guarded by mu_
  std::optional<FileStamp> loaded_;                          // guarded by mu_
};

}  // namespace zc::exporters
