#include "http_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace zc::docker {
namespace {

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kReadBuffer = 256 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int64_t msUntil(std::chrono::steady_clock::time_point deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  return d.count() < 0 ? 0 : d.count();
}

}  // namespace

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
StopSignal::~StopSignal() {
  if (fd_ >= 0) ::close(fd_);
}
void StopSignal::trigger() noexcept {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(fd_, &one, sizeof one);
}
bool StopSignal::stopped() const noexcept {
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}
bool StopSignal::waitFor(std::chrono::milliseconds d) const noexcept {
  auto deadline = std::chrono::steady_clock::now() + d;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(msUntil(deadline)));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return stopped();
  }
}

// ---- HttpResponseReader

Status HttpResponseReader::feedHead(const char* p, size_t n, size_t* consumed) {
  *consumed = 0;
  if (headDone_) return Status::ok();
  // Look for the blank line, also across the previous slice.
  size_t old = head_.size();
  size_t searchFrom = old >= 3 ? old - 3 : 0;
  head_.append(p, std::min(n, kMaxHead + 4 - std::min(old, kMaxHead + 4)));
  size_t at = head_.find("\r\n\r\n", searchFrom);
  if (at == std::string::npos) {
    if (head_.size() > kMaxHead) return Status::corruption("http: response head over 64 KiB");
    *consumed = n;
    return Status::ok();
  }
  size_t headLen = at + 4;
  // The same limit however the head was sliced into reads.
  if (headLen > kMaxHead) return Status::corruption("http: response head over 64 KiB");
  *consumed = headLen - old;
  head_.resize(headLen);
  headDone_ = true;
  return parseHead();
}

Status HttpResponseReader::parseHead() {
  std::string_view h(head_);
  size_t eol = h.find("\r\n");
  std::string_view statusLine = h.substr(0, eol);
  // HTTP/1.x NNN reason
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ') {
    return Status::corruption("http: malformed status line");
  }
  int code = 0;
  auto [ptr, ec] = std::from_chars(statusLine.data() + 9, statusLine.data() + 12, code);
  if (ec != std::errc() || ptr != statusLine.data() + 12 || code < 100 || code > 599) {
    return Status::corruption("http: malformed status code");
  }
  status_ = code;
  size_t pos = eol + 2;
  while (pos < h.size()) {
    size_t e = h.find("\r\n", pos);
    if (e == std::string_view::npos || e == pos) break;
    std::string_view line = h.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::corruption("http: malformed header line");
    }
    headers_.emplace_back(std::string(trim(line.substr(0, colon))),
                          std::string(trim(line.substr(colon + 1))));
    pos = e + 2;
  }
  std::string te = header("Transfer-Encoding");
  std::string cl = header("Content-Length");
  if (status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200)) {
    bodyState_ = BodyState::kDone;
  } else if (!te.empty() && iequals(trim(te), "chunked")) {
    bodyState_ = BodyState::kChunkSize;
  } else if (!cl.empty()) {
    uint64_t len = 0;
    auto [p2, ec2] = std::from_chars(cl.data(), cl.data() + cl.size(), len);
    if (ec2 != std::errc() || p2 != cl.data() + cl.size()) {
      return Status::corruption("http: malformed Content-Length");
    }
    remaining_ = len;
    bodyState_ = len == 0 ? BodyState::kDone : BodyState::kLength;
  } else {
    bodyState_ = BodyState::kUntilClose;
  }
  return Status::ok();
}

std::string HttpResponseReader::header(std::string_view name) const {
  for (const auto& [k, v] : headers_) {
    if (iequals(k, name)) return v;
  }
  return {};
}

Status HttpResponseReader::chunkSizeLine() {
  std::string_view s(line_);
  size_t semi = s.find(';');
  if (semi != std::string_view::npos) s = s.substr(0, semi);
  s = trim(s);
  uint64_t size = 0;
  if (s.empty() || s.size() > 15) return Status::corruption("http: malformed chunk size");
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), size, 16);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Status::corruption("http: malformed chunk size");
  }
  line_.clear();
  if (size == 0) {
    bodyState_ = BodyState::kTrailer;
  } else {
    remaining_ = size;
    bodyState_ = BodyState::kChunkData;
  }
  return Status::ok();
}

Status HttpResponseReader::atEof() const {
  if (!headDone_) return Status::unavailable("http: connection closed before the response head");
  if (bodyState_ == BodyState::kDone || bodyState_ == BodyState::kUntilClose) return Status::ok();
  return Status::unavailable("http: connection closed in the middle of the response body");
}

Result<int> connectUnix(const std::string& socketPath) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof(addr.sun_path)) {
    return Status::invalidArgument("docker socket path too long: " + socketPath);
  }
  std::memcpy(addr.sun_path, socketPath.data(), socketPath.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::unavailable(std::string("socket(): ") + std::strerror(errno));
  int r;
  do {
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    Status st = Status::unavailable("cannot connect to " + socketPath + ": " + std::strerror(errno));
    ::close(fd);
    return st;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

std::string httpGetRequest(std::string_view target) {
  std::string req;
  req.reserve(target.size() + 96);
  req.append("GET ").append(target).append(
      " HTTP/1.1\r\nHost: docker\r\nUser-Agent: zynd-collector\r\nAccept: */*\r\n\r\n");
  return req;
}

// ---- HttpStream

HttpStream::HttpStream(int fd, const StopSignal* stop) : fd_(fd), stop_(stop) {
  buf_.resize(kReadBuffer);
}

HttpStream::~HttpStream() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<HttpStream>> HttpStream::open(const std::string& socketPath,
                                                     std::string_view target,
                                                     std::chrono::milliseconds headTimeout,
                                                     const StopSignal* stop) {
  auto deadline = std::chrono::steady_clock::now() + headTimeout;
  ZC_ASSIGN_OR_RETURN(int fd, connectUnix(socketPath));
  std::unique_ptr<HttpStream> s(new HttpStream(fd, stop));
  const std::string req = httpGetRequest(target);
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t w = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(msUntil(deadline))) <= 0) {
        return Status::timeout("timed out sending a request to the engine");
      }
      continue;
    }
    return Status::unavailable(std::string("send to the engine: ") + std::strerror(errno));
  }
  while (!s->reader_.headComplete()) {
    size_t n = 0;
    auto r = s->fill(static_cast<int>(msUntil(deadline)), &n);
    if (!r.isOk()) return r.status();
    switch (r.value()) {
      case Outcome::kTimeout:
        return Status::timeout("timed out waiting for the engine's response");
      case Outcome::kStopped:
        return Status::aborted("stopped");
      case Outcome::kEnd:
        return Status::unavailable("engine closed the connection before responding");
      case Outcome::kData:
        break;
    }
    size_t used = 0;
    Status st = s->reader_.feedHead(s->buf_.data(), n, &used);
    if (!st.isOk()) return st;
    if (s->reader_.headComplete()) {
      s->bufStart_ = used;
      s->bufEnd_ = n;
    }
  }
  return s;
}

Result<HttpStream::Outcome> HttpStream::fill(int timeoutMs, size_t* n) {
  *n = 0;
  if (eof_) {
    Status st = reader_.atEof();
    if (!st.isOk()) return st;
    return Outcome::kEnd;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (true) {
    ssize_t r = ::recv(fd_, buf_.data(), buf_.size(), 0);
    if (r > 0) {
      *n = static_cast<size_t>(r);
      return Outcome::kData;
    }
    if (r == 0) {
      eof_ = true;
      Status st = reader_.atEof();
      if (!st.isOk()) return st;
      return Outcome::kEnd;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Status::unavailable(std::string("reading from the engine: ") + std::strerror(errno));
    }
    if (timeoutMs <= 0) return Outcome::kTimeout;
    pollfd p[2] = {{fd_, POLLIN, 0}, {stop_ ? stop_->fd() : -1, POLLIN, 0}};
    int pr = ::poll(p, stop_ ? 2 : 1, static_cast<int>(msUntil(deadline)));
    if (pr < 0 && errno != EINTR) {
      return Status::unavailable(std::string("poll: ") + std::strerror(errno));
    }
    if (stop_ && (p[1].revents & POLLIN)) return Outcome::kStopped;
    if (pr == 0) return Outcome::kTimeout;
  }
}

std::string HttpStream::readErrorBody(size_t max, int timeoutMs) {
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  auto sink = [&](const char* p, size_t n) {
    body.append(p, std::min(n, max - std::min(max, body.size())));
    return body.size() < max;
  };
  while (body.size() < max) {
    auto r = readBody(sink, static_cast<int>(msUntil(deadline)));
    if (!r.isOk() || r.value() != Outcome::kData) break;
  }
  return body;
}

}  // namespace zc::docker
