// Shared pieces of the whole-daemon tests against the real Docker engine: containers from the
// busybox test image (always removed), a collector child process on a RocksDB data dir, and
// reading back what it stored once it has stopped.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collector_process.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/storage.h"

namespace zc::testing {

// `docker` with arguments; exit code, stdout in *out.
int docker(const std::string& args, std::string* out = nullptr);

// A deployment container named zynd-<id>, removed (force) on destruction.
class TestContainer {
 public:
  // Runs `script` with sh in the busybox test image; `extra` goes before the image
  // (e.g. "--restart on-failure:2").
  TestContainer(const std::string& id, const std::string& script, const std::string& extra = "");
  ~TestContainer();
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  bool ok() const { return ok_; }
  // Waits until the container is not running (and not restarting).
  bool waitExited(std::chrono::seconds timeout);

 private:
  std::string id_, name_;
  bool ok_ = false;
};

// A unique deployment id for this test run: "<prefix>-<random>".
std::string uniqueId(const std::string& prefix);

// A collector on `dataDir` listening on a free port.
class Collector {
 public:
  explicit Collector(const std::string& dataDir, std::vector<std::string> extraArgs = {});
  uint16_t port() const { return port_; }
  ChildProcess& process() { return *proc_; }
  // /healthz answered and the runtime connected (first reconcile done).
  bool waitConnected(std::chrono::milliseconds timeout);
  // Connected and no log follow running: every exited container was read to its end.
  bool waitDrained(std::chrono::milliseconds timeout);
  // SIGTERM and wait; the exit code.
  int stop();

 private:
  uint16_t port_;
  std::unique_ptr<ChildProcess> proc_;
};

// Every line stored for deployment `id` in the RocksDB data dir (the collector must be stopped).
std::vector<LogLine> readStoredLines(const std::string& dataDir, const std::string& id);
// The same for each of `ids`, in one open of the store.
std::map<std::string, std::vector<LogLine>> readStoredLinesOf(const std::string& dataDir,
                                                              const std::vector<std::string>& ids);

// The stdout and stderr lines of `lines` (system lines left out).
std::vector<LogLine> containerLines(const std::vector<LogLine>& lines);

// For lines "<prefix><n>" of `stream`: each n in [0, count) exactly once and in order
// (gtest failures otherwise).
void expectNumberedOnce(const std::vector<LogLine>& lines, LogStream stream,
                        const std::string& prefix, int count);

// lineNos are 1..n without gap; returns a failure message or "".
std::string checkContiguous(const std::vector<LogLine>& lines);

// A tmpfs of `megabytes` mounted at `path` for the life of the object (root only; mounted()
// says whether it is), for the disk-full tests.
class SmallTmpfs {
 public:
  SmallTmpfs(const std::string& path, int megabytes);
  ~SmallTmpfs();
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Keeps the file system holding `path` full for the life of the object (or until stop()):
// a thread appends zeros to `path` until the write fails for want of space, and again every
// 50 ms, so that whatever another process frees is taken back at once. stop() ends the thread
// and removes the file.
class DiskFiller {
 public:
  explicit DiskFiller(std::string path);
  ~DiskFiller() { stop(); }
  bool ok() const { return fd_ >= 0; }  // the file could be opened
  DiskFiller(const DiskFiller&) = delete;
  DiskFiller& operator=(const DiskFiller&) = delete;
  void stop();

 private:
  std::string path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace zc::testing
