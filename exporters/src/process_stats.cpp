#include "process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace zc::exporters {
namespace {

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::ioError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
bool toNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<ProcStat> parseProcStat(std::string_view text) {
  size_t close = text.rfind(')');
  if (text.find('(') == std::string_view::npos || close == std::string_view::npos) {
    return Status::invalidArgument("stat: no command name in parentheses");
  }
  // After ") ": field 3 (state) onwards; field n is at index n - 3.
  std::vector<std::string_view> f;
  size_t i = close + 1;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
    if (j > i) f.push_back(text.substr(i, j - i));
    i = j;
  }
  if (f.size() < 22) return Status::invalidArgument("stat: fewer than 24 fields");
  ProcStat s;
  if (!toNumber(f[11], s.utimeTicks) || !toNumber(f[12], s.stimeTicks) ||
      !toNumber(f[17], s.threads) || !toNumber(f[19], s.startTicks) ||
      !toNumber(f[21], s.rssPages)) {
    return Status::invalidArgument("stat: a field is not a number");
  }
  return s;
}

Result<long long> parseBootTime(std::string_view procStat) {
  size_t at = 0;
  while (at < procStat.size()) {
    size_t end = procStat.find('\n', at);
    if (end == std::string_view::npos) end = procStat.size();
    std::string_view line = procStat.substr(at, end - at);
    if (line.starts_with("btime ")) {
      long long v = 0;
      if (toNumber(line.substr(6), v)) return v;
      return Status::invalidArgument("/proc/stat: btime is not a number");
    }
    at = end + 1;
  }
  return Status::invalidArgument("/proc/stat: no btime line");
}

Result<ProcessStats> readProcessStats() {
  const std::string procDir = "/proc";
  ZC_ASSIGN_OR_RETURN(std::string statText, readFile(procDir + "/self/stat"));
  ZC_ASSIGN_OR_RETURN(ProcStat st, parseProcStat(statText));
  ZC_ASSIGN_OR_RETURN(std::string sysStat, readFile(procDir + "/stat"));
  ZC_ASSIGN_OR_RETURN(long long bootTime, parseBootTime(sysStat));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessStats p;
  p.cpuSeconds = static_cast<double>(st.utimeTicks + st.stimeTicks) / ticks;
  p.residentBytes = static_cast<double>(st.rssPages) * page;
  p.threads = static_cast<double>(st.threads);
  p.startTimeSeconds = static_cast<double>(bootTime) + static_cast<double>(st.startTicks) / ticks;
  const std::string fdDir = procDir + "/self/fd";
  DIR* d = ::opendir(fdDir.c_str());
  if (d == nullptr) return Status::ioError("cannot list " + fdDir);
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  p.openFds = n - 1;  // the directory being listed holds one itself
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    p.maxFds = lim.rlim_cur == RLIM_INFINITY ? 0 : static_cast<double>(lim.rlim_cur);
  }
  return p;
}

}  // namespace zc::exporters
