// Plugin options: what a plugin declares it takes, and the one parser every plugin uses.
//
// Each plugin declares its keys once, as a table of OptionSpec (key, type, default, bounds, one
// line of help). The host shows the table (`zynd-collector plugins`) and passes the operator's
// values (`--plugin-opt KIND.NAME.KEY=VALUE`) as strings in PluginContext::options. The plugin's
// configure() turns them into typed values with OptionValues::parse(), which refuses an unknown
// key or a bad value with InvalidArgument whose message starts with the key, e.g.
//   "block_cache_mb: '0' is not an integer in 1..1024"
//   "colour: unknown key (known: block_cache_mb, data_dir, sync_writes)"
// so the host can prefix it with the option's full name and stop the start with one line.
//
// Plain values only; thread-safe as values are (no shared state).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "zc/status.h"

namespace zc::plugin {

enum class OptionType : uint8_t {
  kString,    // any text (empty allowed unless `required`)
  kBool,      // true/false, 1/0, yes/no, on/off
  kInt,       // a decimal integer in [minValue, maxValue]
  kDuration,  // "250ms", "90s", "15m", "1h", "7d" or bare seconds, positive; read as ns
  kPath,      // an absolute file system path
};

// "string", "bool", "int", "duration", "path".
std::string_view optionTypeName(OptionType type) noexcept;

struct OptionSpec {
  std::string key;           // [a-z0-9_]{1,64}
  OptionType type = OptionType::kString;
  std::string defaultValue;  // text form; used when the key is not given (empty: no default)
  std::string help;          // one line for `zynd-collector plugins`
  int64_t minValue = 0;      // kInt only: inclusive bounds
  int64_t maxValue = INT64_MAX;
  bool required = false;     // the key must be given a non-empty value
  bool secret = false;       // never shown or logged (passwords, tokens)
};

// The options of one plugin after validation: every declared key has a value (given or default)
// that parses as its type. Getters take a declared key; asking for an undeclared key or the
// wrong type is a programming error and returns the type's zero value.
class OptionValues {
 public:
  // Checks `given` against `specs`: every key declared, every value of its type and in range,
  // every required key present. InvalidArgument "<key>: <why>" on the first problem (keys in
  // sorted order, so the message is deterministic).
  static Result<OptionValues> parse(const std::vector<OptionSpec>& specs,
                                    const std::map<std::string, std::string>& given);

  const std::string& string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  int64_t durationNs(const std::string& key) const;
  // Whether the operator gave the key (as opposed to its default applying).
  bool given(const std::string& key) const;

 private:
  struct Value {
    std::string text;
    int64_t number = 0;  // kInt, kDuration (ns), kBool (0/1)
    bool given = false;
  };
  std::map<std::string, Value> values_;
};

}  // namespace zc::plugin
