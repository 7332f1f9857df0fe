// The crash test's victim: opens the rocksdb storage plugin through the loader on a data_dir,
// resumes at the stored next lineNo, and appends batches until it is killed.
//
//   zc_storage_crash_writer <plugin_dir> <data_dir> <seed>
//
// Each batch has 1-500 lines of deployment "crash" whose text is "line <lineNo>", and the cursor
// "src" = the decimal lineNo of its last line. After each committed batch it writes
// "<lastLineNo>\n" to stdout with one write(2): a line on stdout is an acknowledgement.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "storage_test_util.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <plugin_dir> <data_dir> <seed>\n", argv[0]);
    return 2;
  }
  zc::testing::RecordingLogger logger;
  zc::ManualClock clock(1'800'000'000 * zc::kNanosPerSecond);
  zc::host::PluginRegistry registry;
  zc::Status s = registry.scanDirectory(argv[1]);
  if (s.isOk()) s = registry.openAll();
  if (!s.isOk()) {
    std::fprintf(stderr, "scan: %s\n", s.toString().c_str());
    return 1;
  }
  auto store =
      zc::testing::createStorage(registry, "rocksdb", {{"data_dir", argv[2]}}, &logger, &clock);
  if (!store.isOk() || !(s = (*store)->open()).isOk()) {
    std::fprintf(stderr, "open: %s\n", (store.isOk() ? s : store.status()).toString().c_str());
    return 1;
  }
  auto next = (*store)->nextLineNo("crash");
  if (!next.isOk()) {
    std::fprintf(stderr, "nextLineNo: %s\n", next.status().toString().c_str());
    return 1;
  }
  std::mt19937 rng(static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10)));
  uint64_t lineNo = *next;
  zc::plugin::LogBatch batch;
  batch.deploymentId = "crash";
  while (true) {
    size_t n = std::uniform_int_distribution<size_t>(1, 500)(rng);
    batch.lines.clear();
    for (size_t i = 0; i < n; ++i) {
      batch.lines.push_back(
          zc::testing::makeLine("crash", lineNo + i, clock.now(),
                                i % 7 == 3 ? zc::LogStream::kSystem : zc::LogStream::kStdout));
    }
    uint64_t last = lineNo + n - 1;
    batch.cursor = zc::plugin::LogCursor{"src", std::to_string(last)};
    s = (*store)->appendLogs(batch);
    if (!s.isOk()) {
      std::fprintf(stderr, "append: %s\n", s.toString().c_str());
      return 1;
    }
    std::string ack = std::to_string(last) + "\n";
    if (::write(STDOUT_FILENO, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) {
      return 1;
    }
    lineNo = last + 1;
  }
}
