#include "zc/exporters/tokens.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace zc::exporters {
namespace {

std::string toHex(const unsigned char* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

bool isLowerHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string errnoText() {
  return std::strerror(errno);
}

}  // namespace

const char* tokenScopeName(TokenScope scope) noexcept {
  return scope == TokenScope::kOperate ? "operate" : "read";
}

Result<TokenScope> parseTokenScope(const std::string& text) {
  if (text == "read") return TokenScope::kRead;
  if (text == "operate") return TokenScope::kOperate;
  return Status::invalidArgument("scope '" + text + "' is not read or operate");
}

Status validateTokenName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 &&
            std::all_of(name.begin(), name.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '_' || c == '.' || c == '-';
            });
  if (!ok) return Status::invalidArgument("token name '" + name + "' is not [A-Za-z0-9_.-]{1,64}");
  return Status::ok();
}

Result<std::string> generateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return Status::internal("the random generator failed");
  }
  return "zct_" + toHex(bytes, sizeof bytes);
}

std::string sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return std::string();  // never matches a stored hash
  }
  return toHex(digest, len);
}

Result<std::vector<TokenRecord>> parseTokens(const std::string& text) {
  std::vector<TokenRecord> out;
  std::set<std::string> names;
  std::istringstream in(text);
  std::string line;
  for (int lineNo = 1; std::getline(in, line); ++lineNo) {
    auto bad = [&](const std::string& why) {
      return Status::invalidArgument("line " + std::to_string(lineNo) + ": " + why);
    };
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::string name, scope, hash, extra;
    fields >> name >> scope >> hash;
    if (hash.empty() || (fields >> extra)) return bad("expected '<name> <read|operate> <sha256>'");
    if (Status st = validateTokenName(name); !st.isOk()) return bad(st.message());
    auto sc = parseTokenScope(scope);
    if (!sc.isOk()) return bad(sc.status().message());
    if (hash.size() != 64 || !isLowerHex(hash)) {
      return bad("the hash is not 64 lower-case hex digits");
    }
    if (!names.insert(name).second) return bad("token name '" + name + "' appears twice");
    out.push_back(TokenRecord{name, *sc, hash});
  }
  return out;
}

std::string formatTokens(const std::vector<TokenRecord>& records) {
  std::string out = "# zynd-collector tokens: <name> <read|operate> <sha256 of the token>\n";
  for (const auto& r : records) {
    out += r.name + " " + tokenScopeName(r.scope) + " " + r.sha256Hex + "\n";
  }
  return out;
}

Result<std::vector<TokenRecord>> readTokensFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return Status::notFound("tokens file '" + path + "' does not exist");
    return Status::ioError("cannot read tokens file '" + path + "': " + errnoText());
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::ioError("cannot read tokens file '" + path + "'");
  auto parsed = parseTokens(text.str());
  if (!parsed.isOk()) {
    return Status::invalidArgument("tokens file '" + path + "': " + parsed.status().message());
  }
  return parsed;
}

Status writeTokensFile(const std::string& path, const std::vector<TokenRecord>& records) {
  const std::string text = formatTokens(records);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::ioError("cannot write '" + tmp + "': " + errnoText());
  ::fchmod(fd, 0600);  // whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status st = Status::ioError("cannot write '" + tmp + "': " + errnoText());
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status st = Status::ioError("cannot write '" + tmp + "': " + errnoText());
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = Status::ioError("cannot replace '" + path + "': " + errnoText());
    ::unlink(tmp.c_str());
    return st;
  }
  return Status::ok();
}

TokenStore::TokenStore(std::string path)
    : path_(std::move(path)), records_(std::make_shared<const std::vector<TokenRecord>>()) {}

std::optional<TokenStore::FileStamp> TokenStore::stamp() const {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
  return FileStamp{st.st_ino, st.st_size,
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Status TokenStore::reload() {
  auto before = stamp();
  auto parsed = readTokensFile(path_);
  std::lock_guard lock(mu_);
  loaded_ = before;  // a bad file is reported once, not at every poll
  if (!parsed.isOk()) return parsed.status();
  records_ = std::make_shared<const std::vector<TokenRecord>>(std::move(parsed).value());
  return Status::ok();
}

Status TokenStore::reloadIfChanged() {
  auto now = stamp();
  {
    std::lock_guard lock(mu_);
    if (now == loaded_) return Status::ok();
  }
  return reload();
}

std::optional<TokenIdentity> TokenStore::verify(const std::string& token) const {
  return verifyHash(sha256Hex(token));
}

std::optional<TokenIdentity> TokenStore::verifyHash(const std::string& hash) const {
  std::shared_ptr<const std::vector<TokenRecord>> records;
  {
    std::lock_guard lock(mu_);
    records = records_;
  }
  if (hash.size() != 64) return std::nullopt;
  std::optional<TokenIdentity> found;
  for (const auto& r : *records) {
    // Every record is compared, whatever matched before.
    if (CRYPTO_memcmp(hash.data(), r.sha256Hex.data(), 64) == 0) {
      found = TokenIdentity{r.name, r.scope};
    }
  }
  return found;
}

size_t TokenStore::size() const {
  std::lock_guard lock(mu_);
  return records_->size();
}

}  // namespace zc::exporters
