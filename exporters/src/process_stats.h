// The collector process's own figures for the process_* series of /metrics (the names and
// meanings of the Prometheus client libraries' process collector, which prometheus-cpp lacks),
// read from /proc.
//
// Thread-safety: the functions are pure or read /proc only; call them from any thread.
#pragma once

#include <string>
#include <string_view>

#include "zc/status.h"

namespace zc::exporters {

struct ProcessStats {
  double cpuSeconds = 0;        // user + system CPU time
  double residentBytes = 0;     // resident set size
  double openFds = 0;           // entries of /proc/<pid>/fd
  double maxFds = 0;            // the soft RLIMIT_NOFILE
  double threads = 0;           // threads of the process
  double startTimeSeconds = 0;  // Unix time the process started
};

// The fields of /proc/<pid>/stat that ProcessStats needs, in the units the kernel writes them
// (clock ticks, pages). InvalidArgument when `text` is not a stat line with at least 24 fields
// (the command name, between the first '(' and the last ')', may hold spaces and parentheses).
struct ProcStat {
  unsigned long long utimeTicks = 0;
  unsigned long long stimeTicks = 0;
  long long threads = 0;
  unsigned long long startTicks = 0;  // since boot
  long long rssPages = 0;
};
Result<ProcStat> parseProcStat(std::string_view text);

// The boot time (`btime`) of /proc/stat, Unix seconds. InvalidArgument when absent.
Result<long long> parseBootTime(std::string_view procStat);

// Reads the figures of the calling process from /proc (the descriptor used to list
// /proc/self/fd is not counted). IOError when a file cannot be read, InvalidArgument when one
// does not parse.
Result<ProcessStats> readProcessStats();

}  // namespace zc::exporters
