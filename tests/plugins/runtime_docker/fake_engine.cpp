#include "fake_engine.h"

#include "mux_frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace zc::docker::testing {

bool FakeConnection::write(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t w = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<size_t>(w);
  }
  return true;
}

bool FakeConnection::startChunked(int status, const std::string& extraHeaders) {
  return write("HTTP/1.1 " + std::to_string(status) +
               " X\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n" + extraHeaders + "\r\n");
}

bool FakeConnection::chunk(const std::string& data) {
  if (data.empty()) return true;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
  return write(hex + data + "\r\n");
}

bool FakeConnection::endChunked() { return write("0\r\n\r\n"); }

bool FakeConnection::respond(int status, const std::string& body, const std::string& contentType) {
  return write("HTTP/1.1 " + std::to_string(status) + " X\r\nApi-Version: 1.41\r\nContent-Type: " +
               contentType + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body);
}

void FakeConnection::hangUntilClosed() {
  char buf[256];
  for (int i = 0; i < 600 && !stop_->load(); ++i) {  // at most 60 s
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r > 0) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return;
    }
  }
}

std::string FakeEngine::frame(int stream, const std::string& payload) {
  return testing::muxFrame(stream, payload);
}

FakeEngine::FakeEngine(const std::string& dir, Handler handler, std::string apiVersion)
    : path_(dir + "/docker.sock"), handler_(std::move(handler)), apiVersion_(std::move(apiVersion)) {
  listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 64) != 0) {
    throw std::runtime_error("fake engine: cannot listen on " + path_);
  }
  acceptor_ = std::thread([this] { acceptLoop(); });
}

FakeEngine::~FakeEngine() {
  stop_ = true;
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listenFd_);
  ::unlink(path_.c_str());
}

std::vector<FakeRequest> FakeEngine::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeEngine::count(const std::string& pathPrefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& r : requests_) n += r.target.rfind(pathPrefix, 0) == 0;
  return n;
}

void FakeEngine::acceptLoop() {
  while (!stop_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeEngine::serve(int fd) {
  std::string head;
  char buf[4096];
  for (int i = 0; i < 100 && head.find("\r\n\r\n") == std::string::npos; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  FakeRequest req;
  size_t sp1 = head.find(' ');
  size_t sp2 = head.find(' ', sp1 + 1);
  if (sp1 != std::string::npos && sp2 != std::string::npos) {
    req.method = head.substr(0, sp1);
    req.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string path = req.target.substr(0, req.target.find('?'));
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& r : requests_) req.index += r.target.substr(0, r.target.find('?')) == path;
    requests_.push_back(req);
  }
  FakeConnection conn(fd, &stop_);
  if (req.target == "/_ping") {
    conn.write("HTTP/1.1 200 OK\r\nApi-Version: " + apiVersion_ +
               "\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
  } else if (!req.target.empty()) {
    handler_(req, conn);
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace zc::docker::testing
