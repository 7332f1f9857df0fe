#include "log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "zc/exporters/json_writer.h"
#include "zc/model.h"

namespace zc::collector {
namespace {

// "[storage] ...": what SpdlogPluginLogger writes for a plugin (its kind; a dotted
// "kind.name" is taken too). Lower case only, so the system lines' [CRASH], [GAP] are not tags.
std::string_view pluginTag(std::string_view m) {
  if (m.empty() || m.front() != '[') return {};
  size_t close = m.find("] ");
  if (close == std::string_view::npos || close < 2 || close > 64) return {};
  std::string_view tag = m.substr(1, close - 1);
  if (tag.front() == '.' || tag.back() == '.' || !(tag.front() >= 'a' && tag.front() <= 'z')) {
    return {};
  }
  for (char c : tag) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
      return {};
    }
  }
  return tag;
}

// "deployment <id>: ...": the daemon's messages about one deployment.
std::string_view deploymentOf(std::string_view m) {
  constexpr std::string_view kPrefix = "deployment ";
  if (!m.starts_with(kPrefix)) return {};
  size_t colon = m.find(':', kPrefix.size());
  if (colon == std::string_view::npos) return {};
  std::string_view id = m.substr(kPrefix.size(), colon - kPrefix.size());
  return isValidDeploymentId(id) ? id : std::string_view{};
}

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const TimeNs ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          msg.time.time_since_epoch())
                          .count();
    std::string line = "{\"time\":\"" + formatRfc3339Millis(ns) + "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"logger\":";
    exporters::appendJsonString(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line += ",\"message\":";
    const std::string_view message(msg.payload.data(), msg.payload.size());
    exporters::appendJsonString(line, message);
    line += ",\"fields\":{" + logFieldsOf(message) + "}}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

}  // namespace

std::string logFieldsOf(std::string_view message) {
  std::string out;
  std::string_view tag = pluginTag(message);
  if (!tag.empty()) {
    out += "\"plugin\":";
    exporters::appendJsonString(out, tag);
    message.remove_prefix(tag.size() + 3);  // "[" tag "] "
  }
  std::string_view id = deploymentOf(message);
  if (!id.empty()) {
    if (!out.empty()) out += ',';
    out += "\"deployment\":";
    exporters::appendJsonString(out, id);
  }
  return out;
}

std::unique_ptr<spdlog::formatter> makeJsonLogFormatter() {
  return std::make_unique<JsonLogFormatter>();
}

Status setLogFormat(const std::string& format) {
  if (format == "text") {
    spdlog::set_formatter(
        std::make_unique<spdlog::pattern_formatter>(kTextPattern, spdlog::pattern_time_type::utc));
    return Status::ok();
  }
  if (format == "json") {
    spdlog::set_formatter(makeJsonLogFormatter());
    return Status::ok();
  }
  return Status::invalidArgument("--log-format: '" + format + "' is not text or json");
}

}  // namespace zc::collector
