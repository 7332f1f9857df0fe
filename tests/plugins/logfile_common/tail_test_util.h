// Helpers of the FileTail tests: files written, renamed and removed the way an engine does, and
// a tail read until it is idle.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "file_tail.h"

namespace zc::logfile::tailtest {

inline void append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

inline void writeGz(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(gz);
}

inline std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

struct Read {
  std::vector<std::string> lines;
  std::vector<FilePosition> next;
};

// Reads until the tail is idle.
inline Read readAll(FileTail& t, size_t budget = 1 << 20, bool verify = false) {
  Read r;
  while (true) {
    auto o = t.read(
        [&](std::string_view l, const FilePosition&, const FilePosition& n) {
          r.lines.emplace_back(l);
          r.next.push_back(n);
          return true;
        },
        budget, verify);
    EXPECT_TRUE(o.isOk()) << o.status().toString();
    if (!o.isOk() || o.value() == FileTail::ReadOutcome::kIdle) return r;
  }
}

inline std::vector<std::string> expected(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back("line " + std::to_string(i));
  return v;
}

// rename(2) and unlink(2) that fail the test when they fail.
inline void mv(const std::string& from, const std::string& to) {
  ASSERT_EQ(::rename(from.c_str(), to.c_str()), 0) << from << " -> " << to;
}
inline void rm(const std::string& path) { ASSERT_EQ(::unlink(path.c_str()), 0) << path; }

}  // namespace zc::logfile::tailtest
