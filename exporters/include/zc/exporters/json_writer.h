// JsonWriter: builds JSON text that is always valid UTF-8, whatever bytes it is given.
//
// Strings are written as JSON string literals: every invalid UTF-8 sequence (stray continuation
// bytes, truncated or overlong sequences, surrogates, code points above U+10FFFF) becomes one
// U+FFFD per maximal invalid subpart (the W3C/Unicode "substitution of maximal subparts"
// practice); control characters, '"', '\\', DEL, U+2028 and U+2029 are escaped. The input bytes
// are never modified. Doubles that are not finite are written as null.
//
// Thread-safety: a JsonWriter is a plain value; one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zc::exporters {

// Appends `bytes` to `out` as a quoted JSON string (sanitised as described above).
void appendJsonString(std::string& out, std::string_view bytes);
// `bytes` with each invalid UTF-8 subpart replaced by U+FFFD (no escaping).
std::string sanitizeUtf8(std::string_view bytes);

class JsonWriter {
 public:
  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  // The name of the next member; must be inside an object.
  JsonWriter& key(std::string_view name);

  JsonWriter& string(std::string_view s);
  // An empty string is written as null (the REST convention for absent values).
  JsonWriter& stringOrNull(std::string_view s);
  JsonWriter& integer(int64_t v);
  JsonWriter& unsignedInteger(uint64_t v);
  JsonWriter& number(double v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  template <typename T>
  JsonWriter& optionalInteger(const std::optional<T>& v) {
    return v ? integer(static_cast<int64_t>(*v)) : null();
  }
  // Inserts already-serialised JSON as the next value (trusted input only).
  JsonWriter& raw(std::string_view json);

  const std::string& text() const noexcept { return out_; }
  std::string take() noexcept { return std::move(out_); }
  // Drops the text after `size`, which must be text().size() at a moment when the open
  // container already held an element, so that the container's state is unchanged: a value just
  // written into an array is taken back.
  void truncate(size_t size) noexcept {
    if (size < out_.size()) out_.resize(size);
  }
  void reserve(size_t bytes) { out_.reserve(bytes); }

 private:
  void separate();
  std::string out_;
  // One entry per open container: true until its first element is written.
  std::vector<bool> first_;
  bool afterKey_ = false;
};

}  // namespace zc::exporters
