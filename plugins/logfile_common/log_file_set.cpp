#include "log_file_set.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace zc::logfile {

uint64_t fnv1a64(std::string_view bytes) noexcept {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string_view headOf(std::string_view bytes) {
  size_t nl = bytes.substr(0, kHeadBytes).find('\n');
  if (nl != std::string_view::npos) return bytes.substr(0, nl + 1);
  if (bytes.size() >= kHeadBytes) return bytes.substr(0, kHeadBytes);
  return {};
}

Result<std::string> fileHead(const LogFileEntry& e) {
  if (!e.gz) {
    int fd = ::open(e.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::unavailable("open " + e.path + ": " + std::strerror(errno));
    std::string head(kHeadBytes, '\0');
    ssize_t r = ::pread(fd, head.data(), head.size(), 0);
    ::close(fd);
    head.resize(r > 0 ? static_cast<size_t>(r) : 0);
    return head;
  }
  gzFile gz = gzopen(e.path.c_str(), "rb");
  if (gz == nullptr) return Status::unavailable("gzopen " + e.path + ": failed");
  std::string head(kHeadBytes, '\0');
  int r = gzread(gz, head.data(), static_cast<unsigned>(head.size()));
  gzclose(gz);
  head.resize(r > 0 ? static_cast<size_t>(r) : 0);
  return head;
}

bool headMatches(std::string_view bytes, const FileIdentity& id) {
  return bytes.size() >= id.headLen && fnv1a64(bytes.substr(0, id.headLen)) == id.headHash;
}

bool sameFile(const LogFileEntry& e, const FileIdentity& id) {
  struct stat st {};
  if (::stat(e.path.c_str(), &st) == 0 && st.st_dev == id.dev && st.st_ino == id.ino) {
    if (id.headLen == 0) return true;
    auto head = fileHead(e);
    return head.isOk() && headMatches(head.value(), id);
  }
  if (e.gz && id.headLen > 0) {
    auto head = fileHead(e);
    return head.isOk() && headMatches(head.value(), id);
  }
  return false;
}

bool numberedWithoutHole(const std::vector<LogFileEntry>& files, size_t from, size_t to) {
  for (size_t i = from; i < to && i + 1 < files.size(); ++i) {
    if (files[i].index != files[i + 1].index + 1) return false;
  }
  return true;
}

bool namesFile(const LogFileEntry& e, uint64_t dev, uint64_t ino) {
  struct stat st {};
  return ::stat(e.path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_dev) == dev &&
         static_cast<uint64_t>(st.st_ino) == ino;
}

std::vector<LogFileEntry> listLogFiles(const std::string& livePath) {
  std::vector<LogFileEntry> out;
  size_t slash = livePath.rfind('/');
  std::string dir = slash == std::string::npos ? "." : livePath.substr(0, slash);
  std::string base = slash == std::string::npos ? livePath : livePath.substr(slash + 1);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  std::vector<std::pair<int, bool>> rotated;  // index, gz
  bool live = false;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name == base) {
      live = true;
      continue;
    }
    if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base ||
        name[base.size()] != '.') {
      continue;
    }
    std::string_view rest = name.substr(base.size() + 1);
    bool gz = rest.size() > 3 && rest.substr(rest.size() - 3) == ".gz";
    if (gz) rest.remove_suffix(3);
    if (rest.empty() || rest.size() > 4 || rest[0] == '0') continue;
    int n = 0;
    bool ok = true;
    for (char c : rest) {
      if (c < '0' || c > '9') ok = false;
      n = n * 10 + (c - '0');
    }
    if (ok) rotated.emplace_back(n, gz);
  }
  ::closedir(d);
  // Highest index first; a plain .N before (and instead of) its .N.gz.
  std::sort(rotated.begin(), rotated.end(), [](auto a, auto b) {
    return a.first != b.first ? a.first > b.first : (!a.second && b.second);
  });
  int last = -1;
  for (auto [n, gz] : rotated) {
    if (n == last) continue;
    last = n;
    out.push_back({livePath + "." + std::to_string(n) + (gz ? ".gz" : ""), n, gz});
  }
  if (live) out.push_back({livePath, 0, false});
  return out;
}

}  // namespace zc::logfile
