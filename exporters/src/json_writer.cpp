#include "zc/exporters/json_writer.h"

#include <charconv>
#include <cmath>

namespace zc::exporters {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at s[i], or 0 with `*consumed` set to the length of the
// maximal invalid subpart to replace with one U+FFFD.
size_t validSequence(std::string_view s, size_t i, size_t* consumed) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    *consumed = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < len && i + k < s.size(); ++k) {
    unsigned char x = b(i + k);
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) break;
  }
  if (k == len) return len;
  *consumed = k;
  return 0;
}

template <typename Emit>
void walkUtf8(std::string_view s, Emit&& emit) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      emit(s.substr(i, 1), true);
      ++i;
      continue;
    }
    size_t consumed = 0;
    size_t len = validSequence(s, i, &consumed);
    if (len > 0) {
      emit(s.substr(i, len), false);
      i += len;
    } else {
      emit(kReplacement, false);
      i += consumed;
    }
  }
}

// Printable ASCII that JSON takes as it is.
inline bool isPlainAscii(char ch) {
  unsigned char c = static_cast<unsigned char>(ch);
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

// Escapes bytes that are not plain ASCII: controls, quote, backslash, DEL, and UTF-8 (invalid
// sequences become U+FFFD).
void appendEscaped(std::string& out, std::string_view bytes) {
  walkUtf8(bytes, [&](std::string_view piece, bool ascii) {
    if (!ascii) {
      // U+2028 / U+2029 are valid JSON but break JavaScript that evals it; escape them.
      if (piece == "\xE2\x80\xA8") {
        out += "\\u2028";
      } else if (piece == "\xE2\x80\xA9") {
        out += "\\u2029";
      } else {
        out.append(piece);
      }
      return;
    }
    unsigned char c = static_cast<unsigned char>(piece[0]);
    switch (c) {
      case '"':
        out += "\\\"";
        return;
      case '\\':
        out += "\\\\";
        return;
      case '\n':
        out += "\\n";
        return;
      case '\r':
        out += "\\r";
        return;
      case '\t':
        out += "\\t";
        return;
      case '\b':
        out += "\\b";
        return;
      case '\f':
        out += "\\f";
        return;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  });
}

}  // namespace

void appendJsonString(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size() + 2);
  out.push_back('"');
  // Runs of plain ASCII (most log text) are copied in one go; the bytes between them are
  // escaped one by one. A run never starts or ends inside a UTF-8 sequence: every byte of a
  // multi-byte sequence is >= 0x80.
  size_t i = 0;
  while (i < bytes.size()) {
    size_t run = i;
    while (run < bytes.size() && isPlainAscii(bytes[run])) ++run;
    out.append(bytes.data() + i, run - i);
    if (run == bytes.size()) break;
    size_t end = run + 1;
    while (end < bytes.size() && !isPlainAscii(bytes[end])) ++end;
    appendEscaped(out, bytes.substr(run, end - run));
    i = end;
  }
  out.push_back('"');
}

std::string sanitizeUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  walkUtf8(bytes, [&](std::string_view piece, bool) { out.append(piece); });
  return out;
}

void JsonWriter::separate() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

JsonWriter& JsonWriter::beginObject() {
  separate();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endObject() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::beginArray() {
  separate();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

JsonWriter& JsonWriter::endArray() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  separate();
  appendJsonString(out_, name);
  out_.push_back(':');
  afterKey_ = true;
  return *this;
}

JsonWriter& JsonWriter::string(std::string_view s) {
  separate();
  appendJsonString(out_, s);
  return *this;
}

JsonWriter& JsonWriter::stringOrNull(std::string_view s) {
  return s.empty() ? null() : string(s);
}

JsonWriter& JsonWriter::integer(int64_t v) {
  separate();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::unsignedInteger(uint64_t v) {
  separate();
  out_ += std::to_string(v);
  return *this;
}

JsonWriter& JsonWriter::number(double v) {
  if (!std::isfinite(v)) return null();
  separate();
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

JsonWriter& JsonWriter::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::raw(std::string_view json) {
  separate();
  out_.append(json);
  return *this;
}

}  // namespace zc::exporters
