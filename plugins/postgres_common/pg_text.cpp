#include "pg_text.h"

#include <libpq-fe.h>

#include <algorithm>

namespace zc::pg {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
size_t validSequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char c = byte(i);
  if (c < 0x80) return c == 0 ? 0 : 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string toPgText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t n = validSequence(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status checkConnectionOptions(const std::string& url, const std::string& passwordFile) {
  if (!url.empty()) {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
    std::string why = error != nullptr ? error : "";
    if (error != nullptr) PQfreemem(error);
    if (parsed == nullptr) {
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return Status::invalidArgument("url: not a libpq connection string or URI (" + why + ")");
    }
    PQconninfoFree(parsed);
  }
  if (!passwordFile.empty() && passwordFile.front() != '/') {
    return Status::invalidArgument("password_file: '" + passwordFile + "' is not an absolute path");
  }
  return Status::ok();
}

std::vector<plugin::OptionSpec> connectionOptionSpecs(const std::string& urlHelp) {
  using plugin::OptionType;
  return {
      {"url", OptionType::kString, "", urlHelp},
      {"password_file", OptionType::kString, "",
       "file whose first line is the password (else the URL's, PGPASSWORD or ~/.pgpass)"},
      {"connect_timeout", OptionType::kDuration, "5s", "connecting gives up after this"},
      {"statement_timeout", OptionType::kDuration, "30s", "one statement gives up after this"},
  };
}

Result<ConnectionOptions> readConnectionOptions(const plugin::OptionValues& v) {
  ConnectionOptions o;
  o.url = v.string("url");
  o.passwordFile = v.string("password_file");
  ZC_RETURN_IF_ERROR(checkConnectionOptions(o.url, o.passwordFile));
  o.connectTimeoutS = std::max<int64_t>(2, v.durationNs("connect_timeout") / kNanosPerSecond);
  o.statementTimeoutMs = std::max<int64_t>(1, v.durationNs("statement_timeout") / 1'000'000);
  return o;
}

std::string redactConninfo(const std::string& conninfo) {
  if (conninfo.empty()) return "(libpq defaults)";
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return "(unparsable connection string)";
  // Only what names the target, in a fixed order; never the password or anything secret.
  static const char* const kShown[] = {"host", "hostaddr", "port", "dbname", "user", "sslmode"};
  std::string out;
  for (const char* key : kShown) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (std::string_view(o->keyword) != key || o->val == nullptr || o->val[0] == '\0') continue;
      if (!out.empty()) out += ' ';
      out += std::string(key) + "=" + o->val;
    }
  }
  PQconninfoFree(options);
  return out.empty() ? "(libpq defaults)" : out;
}

int64_t toMicros(TimeNs t) noexcept {
  int64_t q = t / 1000;
  if (t % 1000 < 0) --q;
  return q;
}

}  // namespace zc::pg
