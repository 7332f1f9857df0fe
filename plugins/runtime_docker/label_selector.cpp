#include "label_selector.h"

namespace zc::docker {
namespace {

bool isKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

void appendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

Result<std::vector<std::string>> parseSelectLabels(std::string_view commaList) {
  std::vector<std::string> out;
  if (commaList.empty()) return out;
  size_t start = 0;
  while (start <= commaList.size()) {
    size_t end = commaList.find(',', start);
    if (end == std::string_view::npos) end = commaList.size();
    std::string_view entry = commaList.substr(start, end - start);
    size_t eq = entry.find('=');
    bool ok = eq != std::string_view::npos && eq > 0 && eq <= 128 && entry.size() - eq - 1 <= 256;
    for (size_t i = 0; ok && i < entry.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(entry[i]);
      ok = i < eq ? isKeyChar(entry[i]) : (i == eq || (c >= 0x20 && c < 0x7f));
    }
    if (!ok) {
      std::string shown;
      for (unsigned char c : entry) shown.push_back(c >= 0x20 && c < 0x7f ? char(c) : '?');
      return Status::invalidArgument(
          "select_labels: '" + shown +
          "' is not KEY=VALUE (KEY: 1-128 of letters, digits, '.', '_', '-', '/'; VALUE: up to "
          "256 printable characters other than ',')");
    }
    out.emplace_back(entry);
    start = end + 1;
  }
  return out;
}

std::string filtersJson(std::string_view base, const std::vector<std::string>& labels) {
  std::string out = "{";
  out += base;
  if (!labels.empty()) {
    if (!base.empty()) out += ",";
    out += "\"label\":[";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) out += ",";
      appendJsonString(out, labels[i]);
    }
    out += "]";
  }
  out += "}";
  return out;
}

}  // namespace zc::docker
