// bench_search: how long the first page of matches takes when searching a deployment's whole
// stored log, through the real daemon over HTTP.
//
// The store (RocksDB, filled in process through the real plugin) holds --lines lines of one
// deployment (1,000,000; --smoke 50,000), ~100 bytes each, with the term "NEEDLE" once in every
// --every lines (1,000). From --queries random places (200; --smoke 30) the same kept-alive
// client asks, in alternating order:
//   value:    GET /api/deployments/<id>/logs?q=needle&since=<s>&limit=50  (the page's search:
//             50 matches, about 50,000 lines scanned, case-insensitive)
//   baseline: GET /api/deployments/<id>/logs?since=<s>&limit=500          (the plain page read)
// p50 and p99 of each, and the ratio. Goal: search p99 < 200 ms. The baseline is no ceiling
// (the search reads a hundred times more lines); it says what a request costs at all here.
#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "collector_process.h"
#include "http_client.h"
#include "report.h"
#include "test_support.h"
#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/storage.h"

namespace {

using Clock = std::chrono::steady_clock;
using zc::Result;
using zc::Status;
using zc::plugin::Storage;

constexpr const char* kId = "bench-search";
constexpr size_t kMatchesPerPage = 50;

class QuietLogger final : public zc::plugin::Logger {
 public:
  void log(zc::plugin::LogLevel level, std::string_view message) noexcept override {
    if (level >= zc::plugin::LogLevel::kWarn) {
      std::fprintf(stderr, "bench_search: [rocksdb] %.*s\n", static_cast<int>(message.size()),
                   message.data());
    }
  }
};

// Fills `dir` with the deployment and its lines through the RocksDB plugin.
Status fill(const std::string& dir, uint64_t lines, uint64_t every) {
  zc::host::PluginRegistry registry;
  ZC_RETURN_IF_ERROR(registry.addLibrary(std::string(ZC_PLUGIN_DIR) + "/zc_storage_rocksdb.so"));
  registry.freeze();
  QuietLogger logger;
  zc::plugin::PluginContext ctx;
  ctx.options = {{"data_dir", dir}, {"sync_writes", "false"}};
  ctx.logger = &logger;
  ctx.clock = &zc::systemClock();
  auto storage = registry.create<Storage>("rocksdb", ctx);
  if (!storage.isOk()) return storage.status();
  ZC_RETURN_IF_ERROR((*storage)->open());
  zc::Deployment row;
  row.id = kId;
  row.name = "search bench";
  row.createdAt = zc::systemClock().now();
  ZC_RETURN_IF_ERROR((*storage)->putDeployment(row));
  const std::string pad(60, 'x');
  zc::TimeNs ts = row.createdAt;
  for (uint64_t next = 1; next <= lines;) {
    zc::plugin::LogBatch batch;
    batch.deploymentId = kId;
    for (int i = 0; i < 10000 && next <= lines; ++i, ++next) {
      std::string text = "GET /api/items/" + std::to_string(next) + " 200 " + pad;
      if (next % every == 0) text += " NEEDLE";
      batch.lines.push_back(zc::LogLine{kId, next, zc::LogStream::kStdout, ts += 1000, text, false});
    }
    ZC_RETURN_IF_ERROR((*storage)->appendLogs(batch));
  }
  return (*storage)->close();
}


size_t countLines(const std::string& body) {
  size_t n = 0;
  for (size_t at = body.find("{\"lineNo\":"); at != std::string::npos;
       at = body.find("{\"lineNo\":", at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  zc::bench::Report report(argc, argv);
  uint64_t lines = report.smoke() ? 50'000 : 1'000'000;
  uint64_t every = 1000;
  int queries = report.smoke() ? 30 : 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--lines") lines = std::stoull(argv[i + 1]);
    if (k == "--every") every = std::max<uint64_t>(1, std::stoull(argv[i + 1]));
    if (k == "--queries") queries = std::max(1, std::atoi(argv[i + 1]));
  }
  const std::string scenario = "first " + std::to_string(kMatchesPerPage) + " matches in " +
                               zc::bench::withCommas(lines) + " lines, term every " +
                               zc::bench::withCommas(every);
  zc::testing::TempDir dir;
  auto t0 = Clock::now();
  if (Status st = fill(dir.path() + "/store", lines, every); !st.isOk()) {
    report.fail("search", scenario, "filling the store: " + st.toString());
    return 1;
  }
  std::printf("filled %s lines in %.1f s\n", zc::bench::withCommas(lines).c_str(),
              std::chrono::duration<double>(Clock::now() - t0).count());

  const uint16_t port = zc::testing::freePort();
  zc::testing::ChildProcess proc(zc::testing::collectorArgv(
      {"--data-dir", dir.path() + "/store", "--listen", "127.0.0.1:" + std::to_string(port),
       "--runtime", "none", "--router", "none", "--log-level", "warn"}));
  if (!proc.started() || !zc::testing::waitHealthy(port, nullptr, std::chrono::seconds(60))) {
    report.fail("search", scenario, "the daemon did not start: " + proc.err());
    return 1;
  }
  zc::bench::HttpClient client(port);
  std::mt19937_64 rng(42);
  // Far enough from the end that a page of matches is there to find.
  const uint64_t room = lines > every * (kMatchesPerPage + 1) ? lines - every * (kMatchesPerPage + 1) : 0;
  std::uniform_int_distribution<uint64_t> at(0, room);
  std::vector<double> search, page;
  std::string body, why;
  for (int i = 0; i < queries && why.empty(); ++i) {
    const uint64_t since = at(rng);
    const std::string s = "/api/deployments/" + std::string(kId) + "/logs?q=needle&limit=" +
                          std::to_string(kMatchesPerPage) + "&since=" + std::to_string(since);
    const std::string p = "/api/deployments/" + std::string(kId) + "/logs?limit=500&since=" +
                          std::to_string(since);
    for (int turn = 0; turn < 2; ++turn) {
      const bool searchTurn = (turn == 0) == (i % 2 == 0);  // alternate which goes first
      auto q0 = Clock::now();
      int status = client.get(searchTurn ? s : p, &body);
      if (status < 0) body = client.lastError();
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - q0).count();
      size_t n = countLines(body);
      if (status != 200 || n != (searchTurn ? kMatchesPerPage : 500)) {
        why = "HTTP " + std::to_string(status) + ", " + std::to_string(n) + " lines: " +
              body.substr(0, 200);
        break;
      }
      (searchTurn ? search : page).push_back(ms);
    }
  }
  proc.signal(SIGTERM);
  proc.wait(std::chrono::seconds(30));
  if (!why.empty()) {
    report.fail("search", scenario, why);
    return 1;
  }
  for (double q : {0.5, 0.99}) {
    zc::bench::Figure f;
    f.section = "search";
    f.scenario = scenario;
    f.figure = q == 0.5 ? "p50" : "p99";
    f.unit = "ms";
    f.value = zc::bench::quantile(search, q);
    f.baseline = "500-line page, same since";
    f.baselineValue = zc::bench::quantile(page, q);
    f.better = zc::bench::Better::kLower;
    f.note = q == 0.99 ? "goal: search p99 < 200 ms; the baseline reads 1/100 of the lines" : "";
    report.add(f);
  }
  return report.failures() == 0 ? 0 : 1;
}
