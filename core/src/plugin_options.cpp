#include "zc/plugin/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "zc/model.h"

namespace zc::plugin {
namespace {

// An operator's value quoted in a one-line message: control bytes escaped, long values cut.
std::string quoted(std::string_view v) {
  std::string out = "'";
  for (unsigned char c : v.substr(0, 120)) {
    if (c < 0x20 || c == 0x7f) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (v.size() > 120) out += "...";
  return out + "'";
}

Status bad(const OptionSpec& spec, std::string_view value, const std::string& why) {
  return Status::invalidArgument(spec.key + ": " + (spec.secret ? "the value" : quoted(value)) +
                                 " " + why);
}

Result<int64_t> parseValue(const OptionSpec& spec, const std::string& v) {
  switch (spec.type) {
    case OptionType::kString:
      return 0;
    case OptionType::kBool: {
      std::string s = v;
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
      if (s == "true" || s == "1" || s == "yes" || s == "on") return 1;
      if (s == "false" || s == "0" || s == "no" || s == "off") return 0;
      return bad(spec, v, "is not true or false");
    }
    case OptionType::kInt: {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size() || n < spec.minValue ||
          n > spec.maxValue) {
        return bad(spec, v,
                   "is not a whole number from " + std::to_string(spec.minValue) + " to " +
                       std::to_string(spec.maxValue));
      }
      return n;
    }
    case OptionType::kDuration: {
      auto d = parseDuration(v);
      if (!d.isOk()) return bad(spec, v, "is not a duration (e.g. 250ms, 90s, 15m, 1h, 7d)");
      return d.value();
    }
    case OptionType::kPath:
      if (v.empty() || v[0] != '/') return bad(spec, v, "is not an absolute path");
      return 0;
  }
  return Status::internal(spec.key + ": unknown option type");
}

}  // namespace

std::string_view optionTypeName(OptionType type) noexcept {
  switch (type) {
    case OptionType::kString: return "string";
    case OptionType::kBool: return "bool";
    case OptionType::kInt: return "int";
    case OptionType::kDuration: return "duration";
    case OptionType::kPath: return "path";
  }
  return "unknown";
}

Result<OptionValues> OptionValues::parse(const std::vector<OptionSpec>& specs,
                                         const std::map<std::string, std::string>& given) {
  for (const auto& [key, value] : given) {
    (void)value;
    bool known = std::any_of(specs.begin(), specs.end(),
                             [&key = key](const OptionSpec& s) { return s.key == key; });
    if (known) continue;
    std::vector<std::string> keys;
    for (const auto& s : specs) keys.push_back(s.key);
    std::sort(keys.begin(), keys.end());
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    std::string name = quoted(key);
    return Status::invalidArgument(name.substr(1, name.size() - 2) + ": unknown key (known: " +
                                   (list.empty() ? "none" : list) + ")");
  }
  std::vector<const OptionSpec*> sorted;
  for (const auto& s : specs) sorted.push_back(&s);
  std::sort(sorted.begin(), sorted.end(),
            [](const OptionSpec* a, const OptionSpec* b) { return a->key < b->key; });
  OptionValues out;
  for (const OptionSpec* spec : sorted) {
    auto it = given.find(spec->key);
    Value v;
    v.given = it != given.end();
    v.text = v.given ? it->second : spec->defaultValue;
    if (spec->required && v.text.empty()) {
      return Status::invalidArgument(spec->key + ": required");
    }
    // An optional key with no default and not given reads as empty / zero / false; a value
    // that was given is always checked, an empty one included.
    if (spec->type != OptionType::kString && (v.given || !v.text.empty())) {
      ZC_ASSIGN_OR_RETURN(v.number, parseValue(*spec, v.text));
    }
    out.values_[spec->key] = std::move(v);
  }
  return out;
}

const std::string& OptionValues::string(const std::string& key) const {
  static const std::string kEmpty;
  auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second.text;
}

bool OptionValues::boolean(const std::string& key) const { return integer(key) != 0; }

int64_t OptionValues::integer(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second.number;
}

int64_t OptionValues::durationNs(const std::string& key) const { return integer(key); }

bool OptionValues::given(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && it->second.given;
}

}  // namespace zc::plugin
