#include "collector_process.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace zc::testing {
namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

uint16_t freePort() {
  Poco::Net::ServerSocket s;
  s.bind(Poco::Net::SocketAddress("127.0.0.1", 0), false, false);
  return s.address().port();
}

int httpGet(uint16_t port, const std::string& path, std::string* body) {
  return httpCall(port, "GET", path, body);
}

int httpCall(uint16_t port, const std::string& method, const std::string& path, std::string* body) {
  try {
    Poco::Net::HTTPClientSession s("127.0.0.1", port);
    s.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
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

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::vector<std::string>& extraEnv)
    : out_(dir_.path() + "/out"), err_(dir_.path() + "/err") {
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("ZC_", 0) != 0) env.emplace_back(*e);
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

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !exited_) ::kill(pid_, sig);
}

std::string ChildProcess::out() const { return readFile(out_); }
std::string ChildProcess::err() const { return readFile(err_); }

std::vector<std::string> collectorArgv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(ZC_BIN_DIR) + "/zynd-collector"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

bool waitHealthy(uint16_t port, std::string* body, std::chrono::milliseconds timeout) {
  return waitFor([&] { return httpGet(port, "/healthz", body) == 200; }, timeout,
                 std::chrono::milliseconds(50));
}

}  // namespace zc::testing
