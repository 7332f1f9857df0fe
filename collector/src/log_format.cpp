#include "log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "zc/exporters/json_writer.h"
#include "zc/model.h"

namespace zc::collector {
namespace {

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
    exporters::appendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

}  // namespace

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
