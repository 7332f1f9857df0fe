// The zynd-collector binary as an operator meets it: start-up on each storage, /healthz,
// SIGTERM within 5 s, one-line refusals of bad configuration, the plugins command, broken
// plugins refused while the daemon keeps running, and flags > environment > file.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_support.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

uint16_t freePort() {
  Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
  return s.address().port();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A zynd-collector child process with stdout/stderr captured in files.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& args, const std::vector<std::string>& extraEnv = {})
      : out_(dir_.path() + "/out"), err_(dir_.path() + "/err") {
    std::vector<std::string> argv = {std::string(ZC_BIN_DIR) + "/zynd-collector"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("ZC_", 0) != 0) env.emplace_back(*e);  // hermetic
    }
    env.insert(env.end(), extraEnv.begin(), extraEnv.end());
    std::vector<char*> cenv;
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), cenv.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // Waits for exit; returns the exit code, or -1 on timeout / signal.
  int wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  std::string out() const { return readFile(out_); }
  std::string err() const { return readFile(err_); }

 private:
  zc::testing::TempDir dir_;
  std::string out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// GET http://127.0.0.1:port/path; status or -1 when nothing answers.
int httpGet(uint16_t port, const std::string& path, std::string* body = nullptr) {
  try {
    Poco::Net::HTTPClientSession s("127.0.0.1", port);
    s.setTimeout(Poco::Timespan(2, 0));
    Poco::Net::HTTPRequest req("GET", path, Poco::Net::HTTPMessage::HTTP_1_1);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    std::string b;
    Poco::StreamCopier::copyToString(in, b);
    if (body) *body = b;
    return resp.getStatus();
  } catch (const Poco::Exception&) {
    return -1;
  }
}

bool waitHealthy(uint16_t port, std::string* body = nullptr) {
  return zc::testing::waitFor([&] { return httpGet(port, "/healthz", body) == 200; }, 15s, 50ms);
}

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
  // Log lines of what started before the failure may precede it; the verdict is one line, last.
  std::string err = d.err();
  ASSERT_FALSE(err.empty());
  ASSERT_EQ(err.back(), '\n');
  size_t start = err.rfind('\n', err.size() - 2);
  std::string last = err.substr(start == std::string::npos ? 0 : start + 1);
  EXPECT_EQ(last.rfind("zynd-collector: ", 0), 0u) << err;
  EXPECT_NE(last.find(GetParam().mustMention), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadStartTest,
    ::testing::Values(BadStart{{"--retention-logs", "abc"}, "--retention-logs"},
                      BadStart{{"--bogus-flag"}, "bogus-flag"},
                      BadStart{{"--storage", "nope"}, "no storage plugin named 'nope'"},
                      BadStart{{"--config", "/does/not/exist.properties"}, "--config"},
                      BadStart{{"--data-dir", "/proc/zc-cannot-create"}, "storage"},
                      BadStart{{"--listen", "@BUSY", "--storage", "memory"}, "--listen"}));

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
  // The loader tests' tiny broken plugins, when built (tests/plugins).
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

TEST_F(DaemonTest, HelpDocumentsEveryOption) {
  Daemon d({"--help"});
  ASSERT_EQ(d.wait(10s), 0);
  std::string out = d.out();
  for (const char* opt : {"--listen", "--data-dir", "--storage", "--plugin-dir", "--retention-logs",
                          "--retention-system", "--retention-metrics", "--retention-interval",
                          "--config", "--docker-socket"}) {
    EXPECT_NE(out.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
