#include "podman_stats.h"

#include <Poco/JSON/Array.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace zc::podman {
namespace {

std::optional<std::string> readSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return s.str();
}

uint64_t u64(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o->has(key)) return 0;
  Poco::Dynamic::Var v = o->get(key);
  if (v.isEmpty() || !v.isNumeric()) return 0;
  if (v.isInteger()) {  // exactly: SystemNano needs all 64 bits (a double keeps 53)
    if (v.isSigned()) {
      int64_t i = v.convert<Poco::Int64>();
      return i > 0 ? static_cast<uint64_t>(i) : 0;
    }
    return v.convert<Poco::UInt64>();
  }
  double d = v.convert<double>();
  return d > 0 && d < 1.8e19 ? static_cast<uint64_t>(d) : 0;
}

}  // namespace

Result<LibpodStats> parseLibpodStats(const Poco::JSON::Object::Ptr& answer) {
  try {
    if (!answer) return Status::corruption("libpod stats: not an object");
    Poco::JSON::Array::Ptr list = answer->getArray("Stats");
    if (!list || list->size() == 0) {
      std::string err;
      if (answer->has("Error") && !answer->get("Error").isEmpty()) {
        err = answer->get("Error").toString();
      }
      return Status::notFound("libpod stats: no sample" + (err.empty() ? "" : ": " + err));
    }
    Poco::JSON::Object::Ptr s = list->getObject(0);
    if (!s) return Status::corruption("libpod stats: entry is not an object");
    LibpodStats r;
    r.cpuNano = u64(s, "CPUNano");
    r.systemNano = u64(s, "SystemNano");
    r.memUsage = static_cast<double>(u64(s, "MemUsage"));
    r.memLimit = static_cast<double>(u64(s, "MemLimit"));
    return r;
  } catch (const std::exception& e) {
    return Status::corruption(std::string("libpod stats: unexpected JSON: ") + e.what());
  }
}

double cpuPercent(const LibpodStats& prev, const LibpodStats& cur) noexcept {
  if (cur.cpuNano <= prev.cpuNano || cur.systemNano <= prev.systemNano) return 0;
  return static_cast<double>(cur.cpuNano - prev.cpuNano) /
         static_cast<double>(cur.systemNano - prev.systemNano) * 100.0;
}

bool isSafeCgroupPath(std::string_view p) noexcept {
  if (p.empty() || p.front() != '/' || p.size() > 1024) return false;
  size_t pos = 0;
  while (pos < p.size()) {
    size_t next = p.find('/', pos + 1);
    std::string_view part = p.substr(pos + 1, next == std::string_view::npos ? p.npos : next - pos - 1);
    if (part == ".." || part == ".") return false;
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return p.find('\0') == std::string_view::npos;
}

std::optional<std::string> memoryCgroupDir(const std::string& root, std::string_view cgroupPath) {
  if (!isSafeCgroupPath(cgroupPath)) return std::nullopt;
  std::error_code ec;
  std::string v1 = root + "/memory";
  std::string dir = (std::filesystem::is_directory(v1, ec) ? v1 : root) + std::string(cgroupPath);
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

std::optional<uint64_t> findKeyedValue(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key &&
        line[key.size()] == ' ') {
      std::string_view num = line.substr(key.size() + 1);
      uint64_t v = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec == std::errc() && p == num.data() + num.size()) return v;
      return std::nullopt;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<uint64_t> readInactiveFile(const std::string& dir) {
  auto text = readSmallFile(dir + "/memory.stat");
  if (!text) return std::nullopt;
  if (auto v = findKeyedValue(*text, "total_inactive_file")) return v;  // v1
  return findKeyedValue(*text, "inactive_file");                        // v2
}

std::optional<OomReading> readOomReading(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  auto kills = readOomKills(dir);
  if (!kills) return std::nullopt;
  return OomReading{static_cast<uint64_t>(st.st_ino), *kills};
}

void OomRunTracker::reading(const OomReading& r) noexcept {
  if (r.cgroupIno != cgroupIno_) {
    // Another run's folder, counting from 0 (or the first reading of all): its kills are its own.
    cgroupIno_ = r.cgroupIno;
    kills_ = r.kills;
    killedThisRun_ = r.kills > 0;
    return;
  }
  if (r.kills > kills_) killedThisRun_ = true;
  kills_ = r.kills;
}

bool OomRunTracker::runEnded(int64_t dieTs) noexcept {
  if (dieTs == lastDieTs_) return false;
  lastDieTs_ = dieTs;
  lastRunKilled_ = killedThisRun_;
  killedThisRun_ = false;
  return lastRunKilled_;
}

std::optional<uint64_t> readOomKills(const std::string& dir) {
  if (auto text = readSmallFile(dir + "/memory.oom_control")) {  // v1
    return findKeyedValue(*text, "oom_kill");
  }
  if (auto text = readSmallFile(dir + "/memory.events")) return findKeyedValue(*text, "oom_kill");
  return std::nullopt;
}

}  // namespace zc::podman
