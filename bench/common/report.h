// bench/common: what every benchmark shares.
//
// Report: each figure is measured next to a baseline in the same run. A benchmark hands every
// figure to Report::add(), which prints it at once and, when the benchmark was given
// `--report FILE`, appends it to FILE as one tab-separated row:
//
//   section  scenario  figure  unit  value  baseline  baselineValue  ratio  better  note
//
// ratio = value / baselineValue (0 when the baseline is 0); better is "lower" or "higher" (which
// way is good for value). bench/run.sh collects the rows of every benchmark into one table and
// bench/RESULTS.md. Tabs and newlines in text fields are replaced by spaces.
//
// Also here: the quantile of a sample, /proc figures of a process, and argv parsing shared by the
// benchmarks (--report FILE and --smoke are understood by all of them).
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace zc::bench {

enum class Better { kLower, kHigher };

struct Figure {
  std::string section;   // "ingest", "latency", "query", ...
  std::string scenario;  // "200,000 lines, 1 container"
  std::string figure;    // "lines/s", "p99"
  std::string unit;      // "lines/s", "ms", "MiB", "B/line"
  double value = 0;      // zynd-collector's figure
  std::string baseline;  // what it is compared with, e.g. "plain engine reader"
  double baselineValue = 0;
  Better better = Better::kLower;
  std::string note;  // optional: a goal, a caveat
};

class Report {
 public:
  // Takes `--report FILE` and `--smoke` out of argv (argc is adjusted); the rest is left to the
  // benchmark's own parsing.
  Report(int& argc, char** argv) {
    int out = 1;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--report") == 0 && i + 1 < argc) {
        path_ = argv[++i];
      } else if (std::strcmp(argv[i], "--smoke") == 0) {
        smoke_ = true;
      } else {
        argv[out++] = argv[i];
      }
    }
    argc = out;
    argv[argc] = nullptr;
  }

  bool smoke() const { return smoke_; }
  int failures() const { return failures_; }

  static double ratio(const Figure& f) {
    return f.baselineValue == 0 ? 0 : f.value / f.baselineValue;
  }

  void add(const Figure& f) {
    std::printf("  %-10s %-40s %-14s %12.4g %-8s | %-34s %12.4g | ratio %.2f\n", f.section.c_str(),
                f.scenario.c_str(), f.figure.c_str(), f.value, f.unit.c_str(), f.baseline.c_str(),
                f.baselineValue, ratio(f));
    std::fflush(stdout);
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::app);
    out << clean(f.section) << '\t' << clean(f.scenario) << '\t' << clean(f.figure) << '\t'
        << clean(f.unit) << '\t' << number(f.value) << '\t' << clean(f.baseline) << '\t'
        << number(f.baselineValue) << '\t' << number(ratio(f)) << '\t'
        << (f.better == Better::kLower ? "lower" : "higher") << '\t' << clean(f.note) << '\n';
  }

  // A scenario that could not be measured: printed and recorded as a FAILED row (run.sh then
  // exits non-zero).
  void fail(const std::string& section, const std::string& scenario, const std::string& why) {
    ++failures_;
    std::fprintf(stderr, "  %s %s: FAILED: %s\n", section.c_str(), scenario.c_str(), why.c_str());
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::app);
    out << clean(section) << '\t' << clean(scenario) << "\tFAILED\t\t\t\t\t\t\t" << clean(why)
        << '\n';
  }

 private:
  static std::string clean(std::string s) {
    for (char& c : s) {
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    }
    return s;
  }
  static std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }

  std::string path_;
  bool smoke_ = false;
  int failures_ = 0;
};

// The q-quantile (0..1) of `v` (sorted in place), nearest rank; 0 for an empty sample.
inline double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// 10000000 -> "10,000,000" (for scenario names).
inline std::string withCommas(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Figures of a live process from /proc/<pid>/status: resident and peak resident KiB, threads.
struct ProcStatus {
  long rssKb = 0;
  long hwmKb = 0;
  long threads = 0;
};

inline ProcStatus procStatus(pid_t pid) {
  ProcStatus s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:")
      in >> s.rssKb;
    else if (key == "VmHWM:")
      in >> s.hwmKb;
    else if (key == "Threads:")
      in >> s.threads;
    else
      in.ignore(1 << 12, '\n');
  }
  return s;
}

// User + system CPU seconds a process has used so far (/proc/<pid>/stat fields 14 and 15).
inline double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t rp = all.rfind(')');  // the command name may hold spaces and parentheses
  if (rp == std::string::npos) return 0;
  std::istringstream fields(all.substr(rp + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state .. cmajflt
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace zc::bench
