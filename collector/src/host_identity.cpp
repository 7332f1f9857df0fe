// --host-id and --advertise-url: who this collector is in a fleet.
#include <unistd.h>

#include <climits>

#include "options.h"

namespace zc::collector {
namespace {

bool isHostIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool isValidHostId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!isHostIdChar(c)) return false;
  }
  return true;
}

}  // namespace

Status readHostIdentity(const std::string& hostId, const std::string& advertiseUrl,
                        CollectorConfig* config) {
  std::string id = hostId;
  if (id.empty()) {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') {
      return Status::invalidArgument("--host-id: the hostname is unreadable; give --host-id NAME");
    }
    id = name;
    // A hostname may carry characters a fleet id does not take; keep only the safe ones.
    std::string safe;
    for (char c : id) safe.push_back(isHostIdChar(c) ? c : '-');
    id = safe.substr(0, 64);
  }
  if (!isValidHostId(id)) {
    return Status::invalidArgument("--host-id: '" + hostId +
                                   "' is not 1-64 characters of letters, digits, '.', '_', '-'");
  }
  if (!advertiseUrl.empty()) {
    const bool scheme = advertiseUrl.rfind("http://", 0) == 0 || advertiseUrl.rfind("https://", 0) == 0;
    const size_t hostStart = advertiseUrl.find("://") + 3;
    bool printable = true;
    for (unsigned char c : advertiseUrl) printable = printable && c > 0x20 && c < 0x7f;
    if (!scheme || !printable || advertiseUrl.size() <= hostStart || advertiseUrl.size() > 2048) {
      return Status::invalidArgument("--advertise-url: '" + advertiseUrl +
                                     "' is not an http:// or https:// URL");
    }
  }
  config->hostId = std::move(id);
  config->advertiseUrl = advertiseUrl;
  return Status::ok();
}

}  // namespace zc::collector
