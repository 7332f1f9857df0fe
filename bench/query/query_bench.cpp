// bench/query: reading a page of a big store through the daemon, next to the storage read it is
// built on; and what the store costs on disk per line, next to the raw text.
//
//   bench_query [--lines N] [--deployments D] [--queries K] [--data-dir DIR] [--smoke]
//               [--report FILE]
//
// 1. Dataset: N synthetic application log lines (default 10,000,000) over D deployments (default
//    10), written with the RocksDB storage plugin loaded in this process through the real plugin
//    loader, with the daemon's options. The lines look like an agent service's output and are the
//    same in every run (seeded): access-log lines, key=value and JSON lines with timestamps,
//    levels, request ids, paths and durations, 12-230 bytes (126 on average with the newline);
//    warnings and Python tracebacks on stderr. Written as the pipeline writes them:
//    Storage::appendLogs() batches of 4,000 contiguous lines with the container's resume cursor,
//    the deployments interleaved batch by batch, plus a Deployment row each. Timestamps span the
//    last 3 hours (inside the 7-day retention). The write rate is printed (informational).
// 2. Query baseline: the store is reopened in this process; a warm-up of K/10 pages (20-200), then
//    K pages (default 2,000) of 500 lines, Storage::readLogs(id, since, 500) at a random
//    deployment and a random since (uniform in [0, lines per deployment - 500]), each timed; p50,
//    p99. Before the warm-up and again before the measured pages, the bench waits until the
//    process has used no CPU for 2 s: RocksDB's flushes and compactions after an open (the first
//    reads of a freshly written store start one) must not run during the measured pages. Every
//    page is checked (500 lines from since + 1). Then the store is closed.
// 3. Storage: bytes of every file in the data folder after that clean close (SST, WAL, MANIFEST,
//    OPTIONS) / stored lines, against the raw bytes per line (text + one newline). The size right
//    after the write (memtables still in the WAL, compactions pending) is printed.
// 4. Query value: the real zynd-collector on that folder (--runtime none --router none), started
//    within 60 s (/healthz answers); the same warm-up, waits and pages as
//    GET /api/deployments/<id>/logs?since=<n>&limit=500 over one keep-alive HTTP/1.1 connection,
//    each timed from the request to the last byte of the body; p50, p99. Every answer is checked
//    (200, 500 lines from since + 1). The daemon is stopped with SIGTERM.
//
// --data-dir DIR keeps the dataset in DIR (DIR/store, described by DIR/dataset.properties) and
// reuses it in a later run with the same --lines and --deployments; without it the dataset lives
// in a temporary folder removed at the end. --smoke: 20,000 lines, 2 deployments, 50 queries.
// Exit status 0 when every figure was measured, 1 otherwise.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collector_process.h"
#include "http_client.h"
#include "report.h"
#include "test_support.h"
#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/storage.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using zc::kNanosPerSecond;
using zc::LogLine;
using zc::LogStream;
using zc::Result;
using zc::Status;
using zc::TimeNs;
using zc::plugin::Storage;
using StoragePtr = zc::host::PluginPtr<Storage>;
namespace fs = std::filesystem;

constexpr size_t kPageLines = 500;
constexpr size_t kBatchLines = 4000;
constexpr int64_t kSpanNs = 3 * 3600 * kNanosPerSecond;  // timestamps cover the last 3 hours
constexpr uint64_t kLineSeed = 20261128;
constexpr uint64_t kWarmUpSeed = 7;
constexpr uint64_t kPlanSeed = 42;
constexpr int kGeneratorVersion = 1;  // bump when LineGenerator changes: a kept dataset is rebuilt
constexpr auto kDaemonStartLimit = 60s;
constexpr auto kIdleLimit = 300s;

double millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}
double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

std::string printed(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string printed(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return std::string(buf, static_cast<size_t>(std::clamp(n, 0, static_cast<int>(sizeof buf) - 1)));
}

// ---------------------------------------------------------------------------------------------
// Synthetic log lines

struct Frame {
  const char* file;
  const char* function;
  const char* code;
};

constexpr Frame kFrames[] = {
    {"/app/agent/loop.py", "run_step", "result = await self.tools.invoke(call.name, **call.args)"},
    {"/app/agent/tools.py", "invoke",
     "return await asyncio.wait_for(tool(**kwargs), timeout=self.timeout)"},
    {"/usr/local/lib/python3.11/asyncio/tasks.py", "wait_for", "return fut.result()"},
    {"/usr/local/lib/python3.11/site-packages/httpx/_client.py", "send",
     "response = await self._send_handling_auth("},
    {"/app/agent/memory.py", "recall",
     "rows = await self.db.fetch(RECALL_QUERY, session_id, limit)"},
    {"/app/agent/llm.py", "complete", "resp = await self.client.chat.completions.create(**params)"},
};
constexpr const char* kExceptions[] = {
    "TimeoutError",
    "httpx.ReadTimeout: timed out",
    "KeyError: 'session_id'",
    "ValueError: invalid literal for int() with base 10: 'None'",
    "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for "
    "requests'}}",
    "asyncpg.exceptions.ConnectionDoesNotExistError: connection was closed in the middle of "
    "operation",
};
constexpr const char* kPaths[] = {"/api/v1/agents/%u/messages",   "/api/v1/sessions/%u/events",
                                  "/api/v1/users/%u/profile",     "/v1/chat/completions?n=%u",
                                  "/api/v1/tools/invoke?tool=%u", "/health?probe=%u"};
constexpr const char* kMethods[] = {"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"};
constexpr unsigned kStatuses[] = {200, 200, 200, 200, 200, 200, 200, 200,
                                  201, 204, 304, 400, 404, 429, 500};
constexpr const char* kTools[] = {"web_search", "read_url",        "python_exec",  "sql_query",
                                  "send_email", "calendar_lookup", "vector_search"};
constexpr const char* kModels[] = {"gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-70b-instruct",
                                   "mistral-large"};
constexpr const char* kCacheKeys[] = {"profile", "preferences", "history", "embeddings", "quota"};
constexpr const char* kHosts[] = {"openai.com", "anthropic.com", "search.brave.com", "slack.com"};

// What one agent service prints, line after line; deterministic for a seed.
class LineGenerator {
 public:
  explicit LineGenerator(uint64_t seed) : rng_(seed) {}

  // The next line, written at `ts`.
  void next(TimeNs ts, std::string* text, LogStream* stream) {
    if (!traceback_.empty()) {
      *text = std::move(traceback_.front());
      traceback_.pop_front();
      *stream = LogStream::kStderr;
      return;
    }
    const char* t = stamp(ts);
    *stream = LogStream::kStdout;
    uint64_t kind = below(1000);
    if (kind < 400) {
      *text = printed(
          "%s INFO  uvicorn.access 10.0.%u.%u:%u - \"%s %s HTTP/1.1\" %u %.1fms req=%016llx", t,
          unsigned(below(4)), unsigned(below(256)), unsigned(30000 + below(30000)), pick(kMethods),
          path().c_str(), pick(kStatuses), durationMs(), id64());
    } else if (kind < 550) {
      *text = printed(
          "%s INFO  agent.loop session=%08x step=%u tool=%s status=ok duration_ms=%.0f tokens=%u",
          t, unsigned(below(1u << 31)), unsigned(1 + below(12)), pick(kTools), durationMs() * 8,
          unsigned(below(4000)));
    } else if (kind < 670) {
      *text = printed(
          "{\"time\":\"%s\",\"level\":\"info\",\"logger\":\"agent.llm\",\"msg\":\"completion "
          "finished\",\"model\":\"%s\",\"prompt_tokens\":%u,\"completion_tokens\":%u,"
          "\"latency_ms\":%.0f,\"request_id\":\"%016llx\"}",
          t, pick(kModels), unsigned(200 + below(6000)), unsigned(10 + below(900)),
          durationMs() * 20, id64());
    } else if (kind < 850) {
      *text = printed("%s DEBUG agent.memory cache %s key=user:%u:%s ttl=%us size=%uB", t,
                      below(3) == 0 ? "miss" : "hit", unsigned(below(50000)), pick(kCacheKeys),
                      unsigned(60 * (1 + below(60))), unsigned(64 + below(20000)));
    } else if (kind < 930) {
      *text = below(2) == 0
                  ? printed("%s INFO  worker heartbeat ok queue=%u", t, unsigned(below(20)))
                  : printed("%s INFO  ingest progress %u/%u", t, unsigned(below(500)), 500u);
    } else if (kind < 993) {
      *stream = LogStream::kStderr;
      *text = printed(
          "%s WARN  agent.tools retry %u/3 for POST https://api.%s/v1/%s: 429 Too Many Requests", t,
          unsigned(1 + below(3)), pick(kHosts), pick(kTools));
    } else {
      *stream = LogStream::kStderr;
      const char* exception = pick(kExceptions);
      *text = printed("%s ERROR agent.loop step %u of session %08x failed: %.40s", t,
                      unsigned(1 + below(12)), unsigned(below(1u << 31)), exception);
      queueTraceback(exception);
    }
  }

 private:
  uint64_t below(uint64_t n) { return rng_() % n; }
  template <typename T, size_t N>
  T pick(const T (&list)[N]) {
    return list[below(N)];
  }
  unsigned long long id64() { return static_cast<unsigned long long>(rng_()); }
  double durationMs() { return std::lognormal_distribution<double>(2.5, 1.0)(rng_); }
  std::string path() {
    // The paths are format strings with one %u.
    char buf[128];
    std::snprintf(buf, sizeof buf, pick(kPaths), unsigned(below(100000)));
    return buf;
  }

  // "2026-11-28T10:15:42.123Z" for `ts`.
  const char* stamp(TimeNs ts) {
    int64_t second = ts / kNanosPerSecond;
    if (second != stampSecond_) {
      std::time_t t = static_cast<std::time_t>(second);
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(stampHead_, sizeof stampHead_, "%Y-%m-%dT%H:%M:%S", &tm);
      stampSecond_ = second;
    }
    std::snprintf(stamp_, sizeof stamp_, "%s.%03dZ", stampHead_,
                  static_cast<int>(ts % kNanosPerSecond / 1'000'000));
    return stamp_;
  }

  // The Python traceback printed after an error line: 2-7 frames, then the exception.
  void queueTraceback(const char* exception) {
    traceback_.emplace_back("Traceback (most recent call last):");
    for (uint64_t i = 0, frames = 2 + below(6); i < frames; ++i) {
      const Frame& f = pick(kFrames);
      traceback_.push_back(
          printed("  File \"%s\", line %u, in %s", f.file, unsigned(20 + below(600)), f.function));
      traceback_.push_back(printed("    %s", f.code));
    }
    traceback_.emplace_back(exception);
  }

  std::mt19937_64 rng_;
  std::deque<std::string> traceback_;  // lines still to print after an error
  int64_t stampSecond_ = -1;
  char stampHead_[32] = {};
  char stamp_[40] = {};
};

// ---------------------------------------------------------------------------------------------
// The storage plugin, in process

// Prints the plugin's warnings and errors.
class StderrLogger final : public zc::plugin::Logger {
 public:
  void log(zc::plugin::LogLevel level, std::string_view message) noexcept override {
    if (level >= zc::plugin::LogLevel::kWarn) {
      std::fprintf(stderr, "bench_query: [rocksdb] %.*s\n", static_cast<int>(message.size()),
                   message.data());
    }
  }
};

// The RocksDB storage plugin, loaded once through the real loader.
class StoragePlugin {
 public:
  Status load() {
    Status st = registry_.addLibrary(std::string(ZC_PLUGIN_DIR) + "/zc_storage_rocksdb.so");
    registry_.freeze();
    return st;
  }

  // A storage on `dir`, opened with the daemon's options (those `zynd-collector` passes by
  // default: data_dir and sync_writes=false; compression lz4, zstd on the last level).
  Result<StoragePtr> open(const std::string& dir) {
    zc::plugin::PluginContext ctx;
    ctx.options = {{"data_dir", dir}, {"sync_writes", "false"}};
    ctx.logger = &logger_;
    ctx.clock = &zc::systemClock();
    auto storage = registry_.create<Storage>("rocksdb", ctx);
    if (!storage.isOk()) return storage.status();
    Status st = (*storage)->open();
    if (!st.isOk()) return st;
    return std::move(storage).value();
  }

 private:
  zc::host::PluginRegistry registry_;
  StderrLogger logger_;
};

Status closeStorage(StoragePtr& storage) {
  Status st = storage->close();
  storage.reset();
  return st;
}

// ---------------------------------------------------------------------------------------------
// Files and processes

struct DiskUsage {
  uint64_t sst = 0, wal = 0, other = 0;
  uint64_t total() const { return sst + wal + other; }
  std::string describe() const {
    return printed("SST %.1f MiB + WAL %.1f MiB + other %.1f MiB", mib(sst), mib(wal), mib(other));
  }
};

// Every regular file under `dir`: RocksDB's tables (*.sst), its write-ahead log (*.log) and the
// rest (MANIFEST, OPTIONS, CURRENT, ...).
DiskUsage diskUsage(const std::string& dir) {
  DiskUsage u;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fileEc;  // a file removed meanwhile is skipped, not the end of the walk
    if (!it->is_regular_file(fileEc)) continue;
    uint64_t size = it->file_size(fileEc);
    if (fileEc) continue;
    std::string ext = it->path().extension().string();
    (ext == ".sst" ? u.sst : ext == ".log" ? u.wal : u.other) += size;
  }
  return u;
}

// Waits until process `pid` uses (almost) no CPU for 2 s: the flushes and compactions RocksDB
// starts after an open are done. The seconds waited, or -1 when it was still busy after `limit`.
double waitIdle(pid_t pid, std::chrono::seconds limit) {
  constexpr auto kStep = 250ms;
  constexpr size_t kWindow = 8;      // 2 s of steps
  constexpr double kIdleCpu = 0.04;  // 40 ms of CPU in 2 s
  auto start = Clock::now();
  std::deque<double> cpu;
  while (Clock::now() - start < limit) {
    cpu.push_back(zc::bench::cpuSeconds(pid));
    if (cpu.size() > kWindow + 1) cpu.pop_front();
    if (cpu.size() == kWindow + 1 && cpu.back() - cpu.front() <= kIdleCpu + 1e-9) {
      return seconds(Clock::now() - start);
    }
    std::this_thread::sleep_for(kStep);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// The dataset

struct Options {
  uint64_t lines = 10'000'000;
  int deployments = 10;
  int queries = 2000;
  std::string dataDir;  // empty: a temporary folder
};

// Where the dataset lives: --data-dir DIR (kept), or a temporary folder removed at the end.
class Workspace {
 public:
  explicit Workspace(const std::string& dir) {
    if (dir.empty()) {
      temp_.emplace();
      root_ = temp_->path();
    } else {
      root_ = fs::absolute(dir).string();
      std::error_code ec;  // a folder that cannot be made fails the storage's open, with the reason
      fs::create_directories(root_, ec);
    }
  }
  std::string store() const { return root_ + "/store"; }
  std::string description() const { return root_ + "/dataset.properties"; }
  bool kept() const { return !temp_; }

 private:
  std::optional<zc::testing::TempDir> temp_;
  std::string root_;
};

struct Dataset {
  int deployments = 0;
  uint64_t linesPerDeployment = 0;
  uint64_t rawBytes = 0;  // text + one newline per line
  TimeNs builtAt = 0;
  uint64_t lines() const { return linesPerDeployment * static_cast<uint64_t>(deployments); }
};

std::string deploymentId(int d) {
  return printed("bench-q-%02d", d);
}

zc::Deployment deploymentRow(int d, const std::string& containerId, TimeNs createdAt) {
  zc::Deployment row;
  row.id = deploymentId(d);
  row.name = printed("agent-%02d", d);
  row.slug = row.name;
  row.entityType = "agent";
  row.publicUrl = "https://" + row.slug + ".zynd.example";
  row.containerId = containerId;
  row.createdAt = createdAt;
  row.startedAt = createdAt;
  return row;
}

// One deployment's writer: its lines, lineNos, timestamps (evenly spread, slightly jittered,
// never going back) and the runtime's resume cursor.
class DeploymentWriter {
 public:
  DeploymentWriter(int d, uint64_t lines, TimeNs firstTs)
      : id_(deploymentId(d)),
        gen_(kLineSeed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(d + 1))),
        jitter_(static_cast<uint64_t>(d)),
        firstTs_(firstTs),
        stepNs_(std::max<int64_t>(kSpanNs / static_cast<int64_t>(lines), 1000)) {
    containerId_ = printed("%016llx%016llx%016llx%016llx", id64(), id64(), id64(), id64());
  }

  const std::string& containerId() const { return containerId_; }
  uint64_t rawBytes() const { return rawBytes_; }

  // Fills `batch` with the next `count` lines and the cursor after them.
  void fill(zc::plugin::LogBatch* batch, size_t count) {
    batch->deploymentId = id_;
    batch->lines.resize(count);
    for (LogLine& line : batch->lines) {
      line.deploymentId = id_;
      line.lineNo = nextLineNo_;
      line.ts = firstTs_ + static_cast<int64_t>(nextLineNo_ - 1) * stepNs_ +
                static_cast<int64_t>(jitter_() % static_cast<uint64_t>(stepNs_ / 2 + 1));
      line.truncated = false;
      gen_.next(line.ts, &line.text, &line.stream);
      (line.stream == LogStream::kStderr ? lastErrTs_ : lastOutTs_) = line.ts;
      rawBytes_ += line.text.size() + 1;
      ++nextLineNo_;
    }
    // The docker runtime's cursor: per stream, last timestamp, how many lines carried it, pending.
    batch->cursor = zc::plugin::LogCursor{
        containerId_, printed("v1-%lld-1-0-%lld-1-0", static_cast<long long>(lastOutTs_),
                              static_cast<long long>(lastErrTs_))};
  }

 private:
  unsigned long long id64() { return static_cast<unsigned long long>(jitter_()); }

  std::string id_;
  std::string containerId_;
  LineGenerator gen_;
  std::mt19937_64 jitter_;
  TimeNs firstTs_;
  int64_t stepNs_;
  uint64_t nextLineNo_ = 1;
  TimeNs lastOutTs_ = 0, lastErrTs_ = 0;
  uint64_t rawBytes_ = 0;
};

uint64_t rawTotal(const std::vector<DeploymentWriter>& writers) {
  uint64_t sum = 0;
  for (const auto& w : writers) sum += w.rawBytes();
  return sum;
}

// Writes the dataset into `storage` as the pipeline would, printing the write rate as it goes.
Result<Dataset> writeDataset(Storage& storage, const Options& opt) {
  Dataset ds;
  ds.deployments = opt.deployments;
  ds.linesPerDeployment = opt.lines / static_cast<uint64_t>(opt.deployments);
  ds.builtAt = zc::systemClock().now();
  const TimeNs firstTs = ds.builtAt - kSpanNs - 60 * kNanosPerSecond;

  std::vector<DeploymentWriter> writers;
  for (int d = 0; d < ds.deployments; ++d) {
    writers.emplace_back(d, ds.linesPerDeployment, firstTs);
    Status st = storage.putDeployment(deploymentRow(d, writers.back().containerId(), firstTs));
    if (!st.isOk()) return st.withContext("putDeployment");
  }

  std::printf("writing %s lines (%d deployments, batches of %zu lines)\n",
              zc::bench::withCommas(ds.lines()).c_str(), ds.deployments, kBatchLines);
  const auto start = Clock::now();
  const uint64_t reportEvery = std::max<uint64_t>(ds.lines() / 10, 1);
  uint64_t written = 0, nextReport = reportEvery;
  zc::plugin::LogBatch batch;
  for (uint64_t done = 0; done < ds.linesPerDeployment; done += kBatchLines) {
    size_t count =
        static_cast<size_t>(std::min<uint64_t>(kBatchLines, ds.linesPerDeployment - done));
    for (auto& writer : writers) {
      writer.fill(&batch, count);
      Status st = storage.appendLogs(batch);
      if (!st.isOk()) return st.withContext("appendLogs");
      written += count;
    }
    if (written >= nextReport || written == ds.lines()) {
      double elapsed = seconds(Clock::now() - start);
      std::printf("  %12s lines  %6.1f s  %9.0f lines/s  %6.1f MiB/s of text\n",
                  zc::bench::withCommas(written).c_str(), elapsed, written / elapsed,
                  mib(rawTotal(writers)) / elapsed);
      nextReport += reportEvery;
    }
  }
  ds.rawBytes = rawTotal(writers);
  return ds;
}

// The description of a kept dataset: key=value lines.
void saveDescription(const std::string& path, const Dataset& ds) {
  std::ofstream out(path);
  out << "generator=" << kGeneratorVersion << "\ndeployments=" << ds.deployments
      << "\nlinesPerDeployment=" << ds.linesPerDeployment << "\nrawBytes=" << ds.rawBytes
      << "\nbuiltAt=" << ds.builtAt << "\n";
}

std::optional<Dataset> loadDescription(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::map<std::string, std::string> kv;
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  try {
    if (std::stoi(kv.at("generator")) != kGeneratorVersion) return std::nullopt;
    Dataset ds;
    ds.deployments = std::stoi(kv.at("deployments"));
    ds.linesPerDeployment = std::stoull(kv.at("linesPerDeployment"));
    ds.rawBytes = std::stoull(kv.at("rawBytes"));
    ds.builtAt = std::stoll(kv.at("builtAt"));
    return ds;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Reuses the dataset kept in the workspace when it is the one asked for, else builds it.
Result<Dataset> prepareDataset(StoragePlugin& plugin, const Workspace& ws, const Options& opt) {
  if (auto kept = loadDescription(ws.description())) {
    if (kept->deployments != opt.deployments ||
        kept->linesPerDeployment != opt.lines / static_cast<uint64_t>(opt.deployments)) {
      return Status::failedPrecondition(ws.store() + " holds a different dataset (" +
                                        zc::bench::withCommas(kept->lines()) + " lines, " +
                                        std::to_string(kept->deployments) +
                                        " deployments); remove it or pass those options");
    }
    if (zc::systemClock().now() - kept->builtAt > 6 * 24 * 3600 * kNanosPerSecond) {
      return Status::failedPrecondition(ws.store() +
                                        " was built more than 6 days ago: the 7-day retention "
                                        "is about to expire it; remove it");
    }
    std::printf("reusing the dataset in %s (%s lines)\n", ws.store().c_str(),
                zc::bench::withCommas(kept->lines()).c_str());
    return *kept;
  }
  std::error_code ec;
  if (fs::exists(ws.store(), ec) && !fs::is_empty(ws.store(), ec)) {
    return Status::failedPrecondition(
        ws.store() + " is not empty and not described by " + ws.description() +
        " (an interrupted build, or an older generator's data?); remove it");
  }
  auto storage = plugin.open(ws.store());
  if (!storage.isOk()) return storage.status();
  auto ds = writeDataset(**storage, opt);
  Status closed = closeStorage(*storage);
  if (!ds.isOk()) return ds.status();
  if (!closed.isOk()) return closed.withContext("close after the write");
  std::printf("closed; right after the write (compactions may be pending): %s\n",
              diskUsage(ws.store()).describe().c_str());
  if (ws.kept()) saveDescription(ws.description(), *ds);
  return ds;
}

// ---------------------------------------------------------------------------------------------
// The pages

struct PageQuery {
  int deployment = 0;
  uint64_t since = 0;
};

struct Plan {
  std::vector<PageQuery> warmUp;
  std::vector<PageQuery> measured;
};

std::vector<PageQuery> randomPages(const Dataset& ds, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> deployment(0, ds.deployments - 1);
  std::uniform_int_distribution<uint64_t> since(0, ds.linesPerDeployment - kPageLines);
  std::vector<PageQuery> pages(count);
  for (auto& p : pages) {
    p.deployment = deployment(rng);
    p.since = since(rng);
  }
  return pages;
}

Plan makePlan(const Dataset& ds, int queries) {
  size_t warmUp = std::clamp<size_t>(static_cast<size_t>(queries) / 10, 20, 200);
  return Plan{randomPages(ds, warmUp, kWarmUpSeed),
              randomPages(ds, static_cast<size_t>(queries), kPlanSeed)};
}

// "" when the page holds exactly lines since+1 .. since+500, else what is wrong with it.
std::string checkPage(const PageQuery& q, size_t lines, uint64_t firstLineNo) {
  if (lines == kPageLines && firstLineNo == q.since + 1) return "";
  return printed("%s since=%llu: %zu lines from lineNo %llu, expected %zu from %llu",
                 deploymentId(q.deployment).c_str(), static_cast<unsigned long long>(q.since),
                 lines, static_cast<unsigned long long>(firstLineNo), kPageLines,
                 static_cast<unsigned long long>(q.since + 1));
}

// Runs `fetch` for every page, timing each (ms); `check` looks at its result afterwards, untimed,
// and returns "" or what is wrong, which ends the run.
template <typename Fetch, typename Check>
Result<std::vector<double>> timePages(const std::vector<PageQuery>& pages, Fetch fetch,
                                      Check check) {
  std::vector<double> ms;
  ms.reserve(pages.size());
  for (const PageQuery& q : pages) {
    auto t0 = Clock::now();
    auto result = fetch(q);
    ms.push_back(millis(Clock::now() - t0));
    if (std::string why = check(q, result); !why.empty()) return Status::internal(why);
  }
  return ms;
}

void settle(pid_t pid, const char* who, const char* when) {
  double waited = waitIdle(pid, kIdleLimit);
  if (waited < 0) {
    std::printf("  %s %s: still busy after %lld s, measuring anyway\n", who, when,
                static_cast<long long>(kIdleLimit.count()));
  } else {
    std::printf("  %s %s: background work done after %.1f s\n", who, when, waited);
  }
}

// The warm-up, then the measured pages, each once process `pid` (where the storage runs) is idle:
// a RocksDB compaction may follow the open, and one was seen to start with the first reads of a
// freshly written store; neither must run during the measured pages. One more untimed page after
// the pause reopens a keep-alive connection the server closed meanwhile (it closes one idle for 5
// s).
template <typename Fetch, typename Check>
Result<std::vector<double>> runPlan(const Plan& plan, pid_t pid, const char* who, Fetch fetch,
                                    Check check) {
  settle(pid, who, "after the open");
  auto warm = timePages(plan.warmUp, fetch, check);
  if (!warm.isOk()) return warm.status().withContext("warm-up");
  settle(pid, who, "after the warm-up");
  (void)fetch(plan.warmUp.front());
  return timePages(plan.measured, fetch, check);
}

// Baseline: Storage::readLogs() on the store opened in this process.
Result<std::vector<double>> measureInProcess(StoragePlugin& plugin, const std::string& store,
                                             const Plan& plan) {
  std::printf("baseline: readLogs() in process\n");
  auto opened = plugin.open(store);
  if (!opened.isOk()) return opened.status();
  StoragePtr storage = std::move(opened).value();
  auto fetch = [&](const PageQuery& q) {
    return storage->readLogs(deploymentId(q.deployment), q.since, kPageLines);
  };
  auto check = [](const PageQuery& q, const Result<zc::plugin::LogPage>& page) -> std::string {
    if (!page.isOk()) return page.status().toString();
    return checkPage(q, page->lines.size(), page->lines.empty() ? 0 : page->lines.front().lineNo);
  };
  auto ms = runPlan(plan, ::getpid(), "storage", fetch, check);
  Status closed = closeStorage(storage);
  if (!ms.isOk()) return ms.status();
  if (!closed.isOk()) return closed.withContext("close");
  return ms;
}

// A keep-alive HTTP/1.1 client of the daemon.

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// "" when `answer` is a 200 holding exactly lines since+1 .. since+500.
std::string checkAnswer(const PageQuery& q, const HttpAnswer& a) {
  if (a.status != 200) return printed("HTTP %d: %.300s", a.status, a.body.c_str());
  static const std::string kKey = "{\"lineNo\":";  // a line's text cannot hold an unescaped quote
  size_t lines = 0;
  uint64_t first = 0;
  for (size_t at = a.body.find(kKey); at != std::string::npos;
       at = a.body.find(kKey, at + kKey.size())) {
    if (lines++ == 0) first = std::strtoull(a.body.c_str() + at + kKey.size(), nullptr, 10);
  }
  return checkPage(q, lines, first);
}

struct DaemonRun {
  std::vector<double> ms;
  double startSeconds = 0;  // spawn to /healthz answering
  long rssMb = 0;           // after the pages
  int resent = 0;
};

// Value: the same pages over HTTP from the real daemon on the same folder.
Result<DaemonRun> measureDaemon(const std::string& store, const Plan& plan) {
  std::printf("value: zynd-collector over HTTP\n");
  const uint16_t port = zc::testing::freePort();
  auto spawn = Clock::now();
  zc::testing::ChildProcess proc(zc::testing::collectorArgv(
      {"--data-dir", store, "--listen", "127.0.0.1:" + std::to_string(port), "--runtime", "none",
       "--router", "none", "--log-level", "warn"}));
  if (!proc.started()) return Status::internal("cannot start zynd-collector");
  if (!zc::testing::waitHealthy(port, nullptr, kDaemonStartLimit)) {
    return Status::timeout(printed("zynd-collector did not answer /healthz within %lld s: %s",
                                   static_cast<long long>(kDaemonStartLimit.count()),
                                   proc.err().c_str()));
  }
  DaemonRun run;
  run.startSeconds = seconds(Clock::now() - spawn);
  std::printf("  /healthz answered %.2f s after spawn\n", run.startSeconds);

  zc::bench::HttpClient client(port);
  auto fetch = [&](const PageQuery& q) {
    HttpAnswer a;
    a.status = client.get(
        printed("/api/deployments/%s/logs?since=%llu&limit=%zu", deploymentId(q.deployment).c_str(),
                static_cast<unsigned long long>(q.since), kPageLines),
        &a.body);
    if (a.status < 0) a.body = client.lastError();
    return a;
  };
  auto ms = runPlan(plan, proc.pid(), "zynd-collector", fetch, checkAnswer);
  run.rssMb = zc::bench::procStatus(proc.pid()).rssKb / 1024;
  run.resent = client.resent();
  proc.signal(SIGTERM);
  int code = proc.wait(30s);
  if (code != 0)
    std::printf("  zynd-collector exited with %d after SIGTERM\n%s\n", code, proc.err().c_str());
  if (!ms.isOk()) return ms.status();
  run.ms = std::move(ms).value();
  return run;
}

// ---------------------------------------------------------------------------------------------

std::optional<Options> parseOptions(int argc, char** argv, bool smoke) {
  Options opt;
  if (smoke) {
    opt.lines = 20'000;
    opt.deployments = 2;
    opt.queries = 50;
  }
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      bool hasValue = i + 1 < argc;
      if (a == "--lines" && hasValue)
        opt.lines = std::stoull(argv[++i]);
      else if (a == "--deployments" && hasValue)
        opt.deployments = std::stoi(argv[++i]);
      else if (a == "--queries" && hasValue)
        opt.queries = std::stoi(argv[++i]);
      else if (a == "--data-dir" && hasValue)
        opt.dataDir = argv[++i];
      else
        return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  bool sane = opt.deployments >= 1 && opt.queries >= 1 &&
              opt.lines / static_cast<uint64_t>(opt.deployments) >= 2 * kPageLines;
  if (!sane) return std::nullopt;
  return opt;
}

void reportStorage(zc::bench::Report& report, const std::string& scenario, const Dataset& ds,
                   const DiskUsage& disk) {
  double lines = static_cast<double>(ds.lines());
  report.add({"storage", scenario, "bytes/line", "B/line", disk.total() / lines,
              "raw text bytes/line", ds.rawBytes / lines, zc::bench::Better::kLower,
              "whole RocksDB folder after a clean close: " + disk.describe() +
                  "; lz4, zstd on the last level; synthetic agent log lines"});
}

void reportQuery(zc::bench::Report& report, const std::string& scenario,
                 std::vector<double> inProcess, const DaemonRun& daemon) {
  std::vector<double> http = daemon.ms;
  std::string note = printed(
      "%zu pages, keep-alive HTTP/1.1; daemon RSS %ld MiB after; %d request(s) "
      "resent on a connection the server had closed",
      http.size(), daemon.rssMb, daemon.resent);
  for (auto [figure, q] : {std::pair{"p50", 0.50}, std::pair{"p99", 0.99}}) {
    report.add({"query", scenario, figure, "ms", zc::bench::quantile(http, q),
                "storage readLogs() in process", zc::bench::quantile(inProcess, q),
                zc::bench::Better::kLower, note});
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up at once in a log file too
  zc::bench::Report report(argc, argv);
  auto parsed = parseOptions(argc, argv, report.smoke());
  if (!parsed) {
    std::fprintf(stderr,
                 "usage: bench_query [--lines N] [--deployments D] [--queries K] [--data-dir DIR] "
                 "[--smoke] [--report FILE]\n  (at least %zu lines per deployment)\n",
                 2 * kPageLines);
    return 2;
  }
  const Options opt = *parsed;
  const uint64_t lines = opt.lines / static_cast<uint64_t>(opt.deployments) * opt.deployments;
  const std::string storageScenario =
      zc::bench::withCommas(lines) + " lines, " + std::to_string(opt.deployments) + " deployments";
  const std::string queryScenario =
      "500-line page at a random since, " + zc::bench::withCommas(lines) + " lines";
  auto failBoth = [&](const Status& st) {
    report.fail("storage", storageScenario, st.toString());
    report.fail("query", queryScenario, st.toString());
    return 1;
  };

  StoragePlugin plugin;
  if (Status st = plugin.load(); !st.isOk())
    return failBoth(st.withContext("loading the rocksdb plugin"));
  Workspace ws(opt.dataDir);
  auto dataset = prepareDataset(plugin, ws, opt);
  if (!dataset.isOk()) return failBoth(dataset.status());

  Plan plan = makePlan(*dataset, opt.queries);
  auto inProcess = measureInProcess(plugin, ws.store(), plan);
  reportStorage(report, storageScenario, *dataset, diskUsage(ws.store()));
  if (!inProcess.isOk()) {
    report.fail("query", queryScenario, inProcess.status().toString());
    return 1;
  }
  auto daemon = measureDaemon(ws.store(), plan);
  if (!daemon.isOk()) {
    report.fail("query", queryScenario, daemon.status().toString());
    return 1;
  }
  reportQuery(report, queryScenario, *inProcess, *daemon);
  std::printf("data folder after the daemon stopped: %s\n",
              diskUsage(ws.store()).describe().c_str());
  return report.failures() == 0 ? 0 : 1;
}
