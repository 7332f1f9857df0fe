// The zynd-collector binary as an operator meets it: start-up on each storage, /healthz,
// SIGTERM within 5 s, one-line refusals of bad configuration, the plugins command, broken
// plugins refused while the daemon keeps running, only the plugins in use opened, and flags >
// environment > file.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collector_process.h"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using zc::testing::freePort;
using zc::testing::httpGet;
using zc::testing::waitHealthy;

// zynd-collector with `args`, as a child process.
class Daemon : public zc::testing::ChildProcess {
 public:
  explicit Daemon(const std::vector<std::string>& args, const std::vector<std::string>& extraEnv = {})
      : ChildProcess(zc::testing::collectorArgv(args), extraEnv) {}
};

class DaemonTest : public ::testing::Test {
 protected:
  zc::testing::TempDir data_;
};

TEST_F(DaemonTest, RocksDbDefaultAnswersHealthzAndStopsOnSigtermWithinFiveSeconds) {
  uint16_t port = freePort();
  Daemon d({"--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", data_.path() + "/data",
            "--runtime", "none"});
  std::string body;
  ASSERT_TRUE(waitHealthy(port, &body)) << d.err();
  EXPECT_NE(body.find("\"version\":\"0.1.0\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"plugin\":\"rocksdb\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"ok\":true"), std::string::npos) << body;
  EXPECT_TRUE(fs::is_directory(data_.path() + "/data"));
  auto t0 = std::chrono::steady_clock::now();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(DaemonTest, MemoryStorageStopsOnSigint) {
  uint16_t port = freePort();
  Daemon d({"--listen", "127.0.0.1:" + std::to_string(port), "--storage", "memory", "--runtime", "none"});
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  d.signal(SIGINT);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
}

// Started under a service's usual soft limit of 1,024 descriptors, it raises the soft limit to
// the hard one (1,000 SSE streams would not fit otherwise).
TEST_F(DaemonTest, RaisesItsOpenFileLimitToTheHardLimit) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max <= 1024) GTEST_SKIP() << "hard limit " << saved.rlim_max;
  rlimit low = saved;
  low.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  uint16_t port = freePort();
  Daemon d({"--listen", "127.0.0.1:" + std::to_string(port), "--storage", "memory", "--runtime", "none"});
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  std::ifstream limits("/proc/" + std::to_string(d.pid()) + "/limits");
  std::string line;
  while (std::getline(limits, line) && line.rfind("Max open files", 0) != 0) {
  }
  std::istringstream fields(line.substr(std::string("Max open files").size()));
  unsigned long long soft = 0;
  fields >> soft;
  EXPECT_EQ(soft, static_cast<unsigned long long>(saved.rlim_max)) << line;
}

TEST_F(DaemonTest, UnknownPathAndWrongMethodAnswerJson) {
  uint16_t port = freePort();
  Daemon d({"--listen", "127.0.0.1:" + std::to_string(port), "--storage", "memory", "--runtime", "none"});
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  std::string body;
  EXPECT_EQ(httpGet(port, "/no/such/path", &body), 404);
  EXPECT_NE(body.find("\"error\":\"not_found\""), std::string::npos) << body;
}

struct BadStart {
  std::vector<std::string> args;
  const char* mustMention;
};

void PrintTo(const BadStart& b, std::ostream* os) {
  for (const auto& a : b.args) *os << a << ' ';
}

class BadStartTest : public DaemonTest, public ::testing::WithParamInterface<BadStart> {};

TEST_P(BadStartTest, ExitsNonZeroWithOneClearLine) {
  std::vector<std::string> args = GetParam().args;
  Poco::Net::ServerSocket busy;  // a port in use (bound without SO_REUSEPORT)
  busy.bind(Poco::Net::SocketAddress("127.0.0.1", 0), false, false);
  busy.listen();
  for (auto& a : args) {
    if (a == "@BUSY") a = "127.0.0.1:" + std::to_string(busy.address().port());
  }
  args.insert(args.end(), {"--runtime", "none"});
  if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
    args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(freePort())});
  }
  Daemon d(args);
  int rc = d.wait(10s);
  EXPECT_NE(rc, 0);
  EXPECT_NE(rc, -1) << "did not exit";
  // Log lines of what had started may surround it; the verdict is exactly one line.
  std::string err = d.err();
  std::vector<std::string> verdicts;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("zynd-collector: ", 0) == 0) verdicts.push_back(line);
  }
  ASSERT_EQ(verdicts.size(), 1u) << err;
  EXPECT_NE(verdicts[0].find(GetParam().mustMention), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadStartTest,
    ::testing::Values(BadStart{{"--retention-logs", "abc"}, "--retention-logs"},
                      BadStart{{"--bogus-flag"}, "bogus-flag"},
                      BadStart{{"--session-ttl", "0"}, "--session-ttl"},
                      BadStart{{"--max-storage-bytes", "12abc"}, "--max-storage-bytes"},
                      BadStart{{"--max-storage-bytes", "1000"}, "--max-storage-bytes"},
                      BadStart{{"--storage", "nope"}, "no storage plugin named 'nope'"},
                      BadStart{{"--config", "/does/not/exist.properties"}, "--config"},
                      BadStart{{"--data-dir", "/proc/zc-cannot-create"}, "storage"},
                      BadStart{{"--listen", "@BUSY", "--storage", "memory"}, "--listen"},
                      // Plugin options: an unknown key and a bad value for every shipped plugin,
                      // whether or not it is the selected one, and a malformed --plugin-opt.
                      BadStart{{"--plugin-opt", "storage.rocksdb.colour=blue"},
                               "--plugin-opt storage.rocksdb.colour: unknown key (known: "
                               "block_cache_mb, compression, data_dir, max_open_files, "
                               "sync_writes, write_buffer_mb)"},
                      BadStart{{"--plugin-opt", "storage.rocksdb.block_cache_mb=0"},
                               "--plugin-opt storage.rocksdb.block_cache_mb: '0' is not a whole "
                               "number from 1 to 1024"},
                      BadStart{{"--plugin-opt", "storage.rocksdb.compression=gzip"},
                               "--plugin-opt storage.rocksdb.compression: 'gzip' is not lz4"},
                      BadStart{{"--storage", "memory", "--plugin-opt", "storage.memory.data_dir=/x"},
                               "--plugin-opt storage.memory.data_dir: unknown key (known: none)"},
                      BadStart{{"--plugin-opt", "runtime.docker.sockett=/x"},
                               "--plugin-opt runtime.docker.sockett: unknown key"},
                      BadStart{{"--plugin-opt", "runtime.docker.stall_timeout=soon"},
                               "--plugin-opt runtime.docker.stall_timeout: 'soon' is not a duration"},
                      BadStart{{"--docker-socket", "relative.sock"},
                               "--plugin-opt runtime.docker.socket: 'relative.sock' is not an "
                               "absolute path"},
                      BadStart{{"--plugin-opt", "router.caddy.admin=http://x:1"},
                               "--plugin-opt router.caddy.admin: unknown key"},
                      BadStart{{"--plugin-opt", "router.caddy.timeout=-1"},
                               "--plugin-opt router.caddy.timeout: '-1' is not a duration"},
                      BadStart{{"--plugin-opt", "storage.nosuch.key=1"},
                               "--plugin-opt storage.nosuch: no storage plugin named 'nosuch'"},
                      BadStart{{"--plugin-opt", "storage.rocksdb"},
                               "--plugin-opt: 'storage.rocksdb' is not KIND.NAME.KEY=VALUE"},
                      BadStart{{"--plugin-opt", "engine.docker.socket=/x"},
                               "names no plugin kind"}));

TEST_F(DaemonTest, PluginsCommandListsKindNameVersionPath) {
  Daemon d({"plugins"});
  ASSERT_EQ(d.wait(10s), 0) << d.err();
  std::string out = d.out();
  EXPECT_NE(out.find("KIND"), std::string::npos) << out;
  EXPECT_NE(out.find("storage  rocksdb    0.1.0    " ZC_PLUGIN_DIR "/zc_storage_rocksdb.so"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("storage  memory"), std::string::npos) << out;
}

TEST_F(DaemonTest, BrokenPluginsAreRefusedAndTheDaemonRunsWithTheOthers) {
  std::string dir = data_.path() + "/plugins";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(ZC_PLUGIN_DIR)) {
    if (e.path().extension() == ".so") fs::create_symlink(e.path(), dir + "/" + e.path().filename().string());
  }
  std::ofstream(dir + "/zc_garbage.so") << "not an ELF file\n";
  // The loader tests' tiny broken plugins, when built (tests/core/broken).
  std::string brokenRoot = std::string(ZC_BIN_DIR) + "/../test-plugins";
  if (fs::is_directory(brokenRoot)) {
    for (const auto& e : fs::recursive_directory_iterator(brokenRoot)) {
      if (e.path().extension() == ".so") {
        fs::create_symlink(e.path(), dir + "/zc_broken_" + e.path().parent_path().filename().string() +
                                         "_" + e.path().filename().string());
      }
    }
  }
  Daemon list({"plugins", "--plugin-dir", dir});
  ASSERT_EQ(list.wait(10s), 0) << list.err();
  EXPECT_NE(list.out().find("refused  " + dir + "/zc_garbage.so: cannot load"), std::string::npos)
      << list.out();
  EXPECT_NE(list.out().find("storage  memory"), std::string::npos) << list.out();

  uint16_t port = freePort();
  Daemon d({"--plugin-dir", dir, "--storage", "memory", "--runtime", "none", "--listen",
            "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  EXPECT_NE(d.err().find("zc_garbage.so refused"), std::string::npos) << d.err();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(5s), 0);
}

// A plugin library is opened only when the start uses it: selected, or named by --plugin-opt (its
// options are checked). The others, and what they link (libpq), are never mapped.
TEST_F(DaemonTest, OpensOnlyThePluginsInUse) {
  uint16_t port = freePort();
  Daemon d({"--storage", "memory", "--runtime", "none", "--listen",
            "127.0.0.1:" + std::to_string(port), "--plugin-opt",
            "storage.rocksdb.block_cache_mb=4"});
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  std::ostringstream maps;
  maps << std::ifstream("/proc/" + std::to_string(d.pid()) + "/maps").rdbuf();
  EXPECT_NE(maps.str().find("/zc_storage_memory.so"), std::string::npos);
  EXPECT_NE(maps.str().find("/zc_storage_rocksdb.so"), std::string::npos);
  for (const char* unused : {"/zc_storage_postgres.so", "/zc_sink_postgres.so",
                             "/zc_runtime_docker.so", "/zc_runtime_podman.so", "/libpq.so"}) {
    EXPECT_EQ(maps.str().find(unused), std::string::npos) << unused;
  }
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait(5s), 0) << d.err();
}

TEST_F(DaemonTest, FlagsWinOverEnvironmentWhichWinsOverTheConfigFile) {
  uint16_t filePort = freePort(), envPort = freePort(), flagPort = freePort();
  std::string cfg = data_.path() + "/collector.properties";
  std::ofstream(cfg) << "listen = 127.0.0.1:" << filePort << "\nstorage = memory\nruntime = none\n";
  {
    Daemon d({"--config", cfg});
    EXPECT_TRUE(waitHealthy(filePort)) << d.err();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(5s), 0);
  }
  {
    Daemon d({"--config", cfg}, {"ZC_LISTEN=127.0.0.1:" + std::to_string(envPort)});
    EXPECT_TRUE(waitHealthy(envPort)) << d.err();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(5s), 0);
  }
  {
    Daemon d({"--config", cfg, "--listen", "127.0.0.1:" + std::to_string(flagPort)},
             {"ZC_LISTEN=127.0.0.1:" + std::to_string(envPort)});
    EXPECT_TRUE(waitHealthy(flagPort)) << d.err();
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait(5s), 0);
  }
}

// Every shipped plugin takes its options from --plugin-opt, ZC_PLUGIN_OPT and the configuration
// file; the plugins command lists each plugin's keys.
TEST_F(DaemonTest, PluginOptionsAreTakenFromFlagsEnvironmentAndFile) {
  uint16_t port = freePort();
  std::string cfg = data_.path() + "/collector.properties";
  std::ofstream(cfg) << "plugin-opt.router.caddy.timeout = 2s\n";
  // Options of a plugin that is not selected are checked too.
  Daemon d({"--config", cfg, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
            data_.path() + "/db", "--plugin-opt", "storage.memory.x=1"});
  EXPECT_EQ(d.wait(10s), 78);
  EXPECT_NE(d.err().find("--plugin-opt storage.memory.x: unknown key"), std::string::npos) << d.err();

  Daemon ok({"--config", cfg, "--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
             data_.path() + "/db", "--plugin-opt", "storage.rocksdb.block_cache_mb=16",
             "--plugin-opt", "storage.rocksdb.compression=zstd", "--runtime", "docker",
             "--docker-socket", data_.path() + "/no-engine.sock"},
            {"ZC_PLUGIN_OPT=runtime.docker.stall_timeout=2s; runtime.docker.chunk_linger=0"});
  EXPECT_TRUE(waitHealthy(port)) << ok.err();
  ok.signal(SIGTERM);
  EXPECT_EQ(ok.wait(5s), 0) << ok.err();

  Daemon bad({"--listen", "127.0.0.1:" + std::to_string(port), "--runtime", "none"},
             {"ZC_PLUGIN_OPT=storage.rocksdb.sync_writes=maybe"});
  EXPECT_EQ(bad.wait(10s), 78);
  EXPECT_NE(bad.err().find("zynd-collector: --plugin-opt storage.rocksdb.sync_writes: 'maybe' is "
                           "not true or false"),
            std::string::npos)
      << bad.err();

  Daemon list({"plugins"});
  ASSERT_EQ(list.wait(10s), 0) << list.err();
  for (const char* key : {"storage.rocksdb.block_cache_mb (int; default 8, 1..1024)",
                          "storage.rocksdb.data_dir (string; required)", "runtime.docker.socket (path",
                          "router.caddy.admin_url (string; default http://127.0.0.1:2019)"}) {
    EXPECT_NE(list.out().find(key), std::string::npos) << key << "\n" << list.out();
  }
}

// --log-format json: every line the daemon writes from start to stop is one JSON object with the
// time in UTC; text lines carry UTC times too.
TEST_F(DaemonTest, LogFormatJsonMakesEveryLineOneObject) {
  uint16_t port = freePort();
  Daemon d({"--listen", "127.0.0.1:" + std::to_string(port), "--storage", "memory", "--runtime",
            "none", "--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(waitHealthy(port)) << d.err();
  d.signal(SIGTERM);
  ASSERT_EQ(d.wait(5s), 0) << d.err();
  std::istringstream in(d.err());
  int lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    Poco::JSON::Object::Ptr o;
    ASSERT_NO_THROW(o = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>())
        << line;
    for (const char* key : {"time", "level", "logger", "message"}) {
      EXPECT_TRUE(o->has(key)) << key << " in " << line;
    }
    std::string time = o->getValue<std::string>("time");
    EXPECT_EQ(time.size(), 24u) << time;  // 2026-11-29T18:04:07.123Z
    EXPECT_EQ(time.back(), 'Z') << time;
  }
  EXPECT_GE(lines, 3) << d.err();  // at least: listening, running, stopping

  Daemon bad({"--log-format", "xml", "--runtime", "none"});
  EXPECT_EQ(bad.wait(10s), 78);
  EXPECT_NE(bad.err().find("zynd-collector: --log-format: 'xml' is not text or json"),
            std::string::npos)
      << bad.err();

  Daemon text({"--listen", "127.0.0.1:" + std::to_string(port), "--storage", "memory",
               "--runtime", "none"});
  ASSERT_TRUE(waitHealthy(port)) << text.err();
  text.signal(SIGTERM);
  ASSERT_EQ(text.wait(5s), 0);
  std::string first = text.err().substr(0, text.err().find('\n'));
  ASSERT_GE(first.size(), 25u) << first;
  EXPECT_EQ(first[23], 'Z') << first;  // 2026-11-29T18:04:07.123Z info ...
}

TEST_F(DaemonTest, HelpDocumentsEveryOption) {
  Daemon d({"--help"});
  ASSERT_EQ(d.wait(10s), 0);
  std::string out = d.out();
  for (const char* opt : {"--listen", "--data-dir", "--storage", "--plugin-dir", "--retention-logs",
                          "--retention-system", "--retention-metrics", "--retention-interval",
                          "--config", "--docker-socket", "--plugin-opt"}) {
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
