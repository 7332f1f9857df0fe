#include "json_file_decoder.h"

#include <cstring>

#include "zc/model.h"

namespace zc::logfile {
namespace {

inline bool isWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool hex4(std::string_view s, size_t at, unsigned* out) {
  if (at + 4 > s.size()) return false;
  unsigned v = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int h = hexValue(s[i]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<unsigned>(h);
  }
  *out = v;
  return true;
}

void putUtf8(unsigned cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The end of the JSON string whose body starts at `at` (just after the opening quote): the
// index of the closing quote, or npos. Sets *escaped when a backslash occurs in the body.
size_t stringEnd(std::string_view s, size_t at, bool* escaped) {
  *escaped = false;
  const char* base = s.data();
  size_t i = at;
  while (i < s.size()) {
    const void* q = std::memchr(base + i, '"', s.size() - i);
    if (q == nullptr) return std::string_view::npos;
    size_t qi = static_cast<size_t>(static_cast<const char*>(q) - base);
    if (std::memchr(base + i, '\\', qi - i) == nullptr) return qi;
    *escaped = true;
    // A quote is escaped when an odd number of backslashes precede it.
    size_t bs = 0;
    while (qi - bs > at && base[qi - bs - 1] == '\\') ++bs;
    if (bs % 2 == 0) return qi;
    i = qi + 1;
  }
  return std::string_view::npos;
}

// Skips one JSON value starting at s[i] (after whitespace); returns the index after it or npos.
size_t skipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  char c = s[i];
  if (c == '"') {
    bool esc;
    size_t e = stringEnd(s, i + 1, &esc);
    return e == std::string_view::npos ? e : e + 1;
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    while (i < s.size()) {
      char d = s[i];
      if (d == '"') {
        bool esc;
        size_t e = stringEnd(s, i + 1, &esc);
        if (e == std::string_view::npos) return e;
        i = e + 1;
        continue;
      }
      if (d == '{' || d == '[') {
        if (++depth > 64) return std::string_view::npos;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return std::string_view::npos;
  }
  // number, true, false, null
  size_t start = i;
  while (i < s.size() && s[i] != ',' && s[i] != '}' && !isWs(s[i])) ++i;
  return i == start ? std::string_view::npos : i;
}

}  // namespace

bool decodeJsonString(std::string_view body, std::string& out) {
  size_t i = 0;
  const char* base = body.data();
  while (i < body.size()) {
    const void* b = std::memchr(base + i, '\\', body.size() - i);
    size_t bi = b == nullptr ? body.size() : static_cast<size_t>(static_cast<const char*>(b) - base);
    out.append(base + i, bi - i);
    if (bi == body.size()) return true;
    if (bi + 1 >= body.size()) return false;
    char e = body[bi + 1];
    i = bi + 2;
    switch (e) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        unsigned cp;
        if (!hex4(body, i, &cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (i + 6 <= body.size() && body[i] == '\\' && body[i + 1] == 'u' &&
              hex4(body, i + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;  // lone high surrogate
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          cp = 0xFFFD;  // lone low surrogate
        }
        putUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

Status JsonFileDecoder::decode(std::string_view s, LogRecord* out) {
  size_t i = 0;
  while (i < s.size() && isWs(s[i])) ++i;
  if (i >= s.size() || s[i] != '{') return Status::corruption("json-file line: not an object");
  ++i;
  bool haveLog = false, haveStream = false, haveTime = false;
  bool first = true;
  while (true) {
    while (i < s.size() && isWs(s[i])) ++i;
    if (i >= s.size()) return Status::corruption("json-file line: cut short");
    if (first && s[i] == '}') break;
    first = false;
    if (s[i] != '"') return Status::corruption("json-file line: expected a key");
    bool keyEsc;
    size_t ke = stringEnd(s, i + 1, &keyEsc);
    if (ke == std::string_view::npos) return Status::corruption("json-file line: unterminated key");
    std::string_view key = s.substr(i + 1, ke - i - 1);
    i = ke + 1;
    while (i < s.size() && isWs(s[i])) ++i;
    if (i >= s.size() || s[i] != ':') return Status::corruption("json-file line: expected ':'");
    ++i;
    while (i < s.size() && isWs(s[i])) ++i;
    const bool isLog = key == "log", isStream = key == "stream", isTime = key == "time";
    if (isLog || isStream || isTime) {
      if (i >= s.size() || s[i] != '"') {
        return Status::corruption("json-file line: \"" + std::string(key) + "\" is not a string");
      }
      bool esc;
      size_t e = stringEnd(s, i + 1, &esc);
      if (e == std::string_view::npos) return Status::corruption("json-file line: unterminated string");
      std::string_view body = s.substr(i + 1, e - i - 1);
      i = e + 1;
      if (isLog) {
        if (esc) {
          scratch_.clear();
          if (!decodeJsonString(body, scratch_)) {
            return Status::corruption("json-file line: bad escape in \"log\"");
          }
          out->content = scratch_;
        } else {
          out->content = body;
        }
        haveLog = true;
      } else if (isStream) {
        if (body == "stdout") {
          out->stream = LogStream::kStdout;
        } else if (body == "stderr") {
          out->stream = LogStream::kStderr;
        } else {
          return Status::corruption("json-file line: unknown stream");
        }
        haveStream = true;
      } else {
        auto t = parseRfc3339(body);
        if (!t.isOk()) return Status::corruption("json-file line: bad time");
        out->ts = t.value();
        haveTime = true;
      }
    } else {
      i = skipValue(s, i);
      if (i == std::string_view::npos) return Status::corruption("json-file line: bad value");
    }
    while (i < s.size() && isWs(s[i])) ++i;
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') break;
    return Status::corruption("json-file line: expected ',' or '}'");
  }
  ++i;
  while (i < s.size() && isWs(s[i])) ++i;
  if (i != s.size()) return Status::corruption("json-file line: bytes after the object");
  if (!haveLog || !haveStream || !haveTime) {
    return Status::corruption("json-file line: \"log\", \"stream\" or \"time\" missing");
  }
  return Status::ok();
}

}  // namespace zc::logfile
