#include "zc/exporters/http_server.h"

#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SocketAddress.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "zc/exporters/json_writer.h"
#include "zc/exporters/query.h"

namespace zc::exporters {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool isParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isTchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int remainingMs(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string errorJson(const std::string& code, const std::string& message) {
  JsonWriter w;
  w.beginObject().key("error").string(code).key("message").string(message).endObject();
  return w.take();
}

// A complete response as bytes (status line, headers, body).
std::string rawResponse(int status, const std::string& contentType, const std::string& body,
                        bool keepAlive,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out =
      "HTTP/1.1 " + std::to_string(status) + " " +
      HTTPResponse::getReasonForStatus(static_cast<HTTPResponse::HTTPStatus>(status)) + "\r\n";
  out += "Server: zynd-collector\r\n";
  for (const auto& [k, v] : extra) out += k + ": " + v + "\r\n";
  if (!contentType.empty()) out += "Content-Type: " + contentType + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

// Writes all of `data` before `deadline`; false on timeout or error.
bool writeAll(int fd, std::string_view data, SteadyClock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int ms = remainingMs(deadline);
      if (ms == 0) return false;
      int r = ::poll(&p, 1, ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

constexpr int kLingerMs = 1000;                // how long a rejected connection is drained
constexpr size_t kMaxDrainBytes = 256 * 1024;  // and how much of its input is read and dropped

// Reads and drops what the client still sends (bounded in time and bytes) before the close, so
// that unread input does not turn the close into a RST that could destroy the error response
// before the client has read it ("lingering close").
void lingerAndDrain(int fd) {
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
  size_t drained = 0;
  char buf[8192];
  while (drained < kMaxDrainBytes) {
    pollfd p{fd, POLLIN, 0};
    int ms = remainingMs(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    drained += static_cast<size_t>(n);
  }
}

Poco::Net::SocketAddress addressOf(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return Poco::Net::SocketAddress();
  try {
    return Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&ss), len);
  } catch (const Poco::Exception&) {
    return Poco::Net::SocketAddress();
  }
}

class ResponseImpl final : public HTTPServerResponse {
 public:
  ResponseImpl() { setVersion(HTTP_1_1); }
  void sendContinue() override {}
  std::ostream& send() override {
    sent_ = true;
    return body_;
  }
  void sendFile(const std::string& path, const std::string& mediaType) override {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Poco::FileNotFoundException(path);
    setContentType(mediaType);
    sent_ = true;
    body_ << f.rdbuf();
  }
  void sendBuffer(const void* buffer, std::size_t length) override {
    sent_ = true;
    body_.write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
  }
  void redirect(const std::string& uri, HTTPStatus status) override {
    setStatusAndReason(status);
    set("Location", uri);
    sent_ = true;
  }
  void requireAuthentication(const std::string& realm) override {
    setStatusAndReason(HTTP_UNAUTHORIZED);
    set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
    sent_ = true;
  }
  bool sent() const override { return sent_; }
  std::string body() const { return body_.str(); }
  // Forgets everything a failed handler may have set or written.
  void reset() {
    clear();
    setStatusAndReason(HTTP_OK);
    body_.str(std::string());
    body_.clear();
    sent_ = false;
  }

 private:
  std::ostringstream body_;
  bool sent_ = false;
};

// The descriptor of a connection being served; -1 once closed or detached. Guarded by `mu`, the
// server's mutex, because stop() shuts the descriptors of active connections down.
struct ConnSlot {
  std::mutex* mu;
  int fd;
};

class RequestImpl final : public HTTPServerRequest {
 public:
  RequestImpl(ResponseImpl& resp, std::string body, Poco::Net::SocketAddress client,
              Poco::Net::SocketAddress server, const Poco::Net::HTTPServerParams& params,
              ConnSlot* slot)
      : resp_(resp),
        body_(std::move(body)),
        client_(std::move(client)),
        server_(std::move(server)),
        params_(params),
        slot_(slot) {}
  std::istream& stream() override { return body_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  HTTPServerResponse& response() const override { return resp_; }
  bool secure() const override { return false; }

  // Hands the fd over; the connection sees its slot at -1 and forgets it.
  int detach() noexcept {
    std::lock_guard lock(*slot_->mu);
    int fd = slot_->fd;
    slot_->fd = -1;
    detached_ = true;
    return fd;
  }
  bool detached() const noexcept { return detached_; }

 private:
  ResponseImpl& resp_;
  std::istringstream body_;
  Poco::Net::SocketAddress client_;
  Poco::Net::SocketAddress server_;
  const Poco::Net::HTTPServerParams& params_;
  ConnSlot* slot_;
  bool detached_ = false;
};

// What parsing the buffered bytes of one request head found.
struct Head {
  enum class State { kNeedMore, kDone, kError } state = State::kNeedMore;
  int status = 0;
  std::string code;
  std::string message;
  size_t end = 0;  // bytes of the head, including the empty line
  std::string method;
  std::string target;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
};

Head headError(int status, std::string code, std::string message) {
  Head h;
  h.state = Head::State::kError;
  h.status = status;
  h.code = std::move(code);
  h.message = std::move(message);
  return h;
}

// Parses the request line and header fields in `buf` against the limits. Re-run from the start
// each time more bytes arrive (a head is at most a few tens of KiB).
Head parseHead(std::string_view buf, const HttpServerOptions& o) {
  Head h;
  size_t pos = 0;
  // RFC 9112 2.2: ignore at least one empty line before the request line.
  while (pos < buf.size() && pos < 4 && (buf[pos] == '\r' || buf[pos] == '\n')) ++pos;
  size_t nl = buf.find('\n', pos);
  if (nl == std::string_view::npos) {
    if (buf.size() - pos > o.maxRequestLineBytes) {
      return headError(
          414, "uri_too_long",
          "the request line is longer than " + std::to_string(o.maxRequestLineBytes) + " bytes");
    }
    return h;
  }
  std::string_view line = buf.substr(pos, nl - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > o.maxRequestLineBytes) {
    return headError(
        414, "uri_too_long",
        "the request line is longer than " + std::to_string(o.maxRequestLineBytes) + " bytes");
  }
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return headError(400, "bad_request", "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method) || method.size() > 16) {
    return headError(400, "bad_request", "malformed request method");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return headError(400, "bad_request", "unsupported HTTP version (HTTP/1.0 and 1.1 only)");
  }
  if (target.empty() || target.front() != '/') {
    return headError(400, "bad_request", "the request target must be an absolute path");
  }
  for (char c : target) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || u == '#') {
      return headError(400, "bad_request",
                       "the request target contains a byte that must be "
                       "percent-encoded");
    }
  }
  h.method = std::string(method);
  h.target = std::string(target);
  h.version = std::string(version);
  pos = nl + 1;
  size_t headerBytes = 0;
  for (;;) {
    nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (headerBytes + (buf.size() - pos) > o.maxHeaderBytes) {
        return headError(
            431, "headers_too_large",
            "the header section is larger than " + std::to_string(o.maxHeaderBytes) + " bytes");
      }
      h.state = Head::State::kNeedMore;
      return h;
    }
    std::string_view hl = buf.substr(pos, nl - pos);
    pos = nl + 1;
    if (!hl.empty() && hl.back() == '\r') hl.remove_suffix(1);
    if (hl.empty()) break;
    headerBytes += hl.size() + 2;
    if (headerBytes > o.maxHeaderBytes) {
      return headError(
          431, "headers_too_large",
          "the header section is larger than " + std::to_string(o.maxHeaderBytes) + " bytes");
    }
    if (h.headers.size() + 1 > o.maxHeaderCount) {
      return headError(431, "too_many_headers",
                       "more than " + std::to_string(o.maxHeaderCount) + " header fields");
    }
    if (hl.front() == ' ' || hl.front() == '\t') {
      return headError(400, "bad_request", "obsolete header line folding is not accepted");
    }
    size_t colon = hl.find(':');
    if (colon == std::string_view::npos || !isToken(hl.substr(0, colon))) {
      return headError(400, "bad_request", "malformed header field");
    }
    std::string_view value = hl.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    for (char c : value) {
      auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && u != '\t') || u == 0x7F) {
        return headError(400, "bad_request", "a header value contains a control character");
      }
    }
    h.headers.emplace_back(std::string(hl.substr(0, colon)), std::string(value));
  }
  h.state = Head::State::kDone;
  h.end = pos;
  return h;
}

// How a parsed head frames its body, and what is wrong with it (status 0 when nothing).
struct Framing {
  int status = 0;
  std::string code;
  std::string message;
  size_t bodyLen = 0;
  bool expectContinue = false;
  bool keepAlive = false;
};

Framing frame(const Head& head, const HttpServerOptions& opts) {
  Framing f;
  auto error = [&](int status, std::string code, std::string message) {
    f.status = status;
    f.code = std::move(code);
    f.message = std::move(message);
    return f;
  };
  bool hasHost = false, closeRequested = false, keepAliveRequested = false;
  std::optional<uint64_t> contentLength;
  for (const auto& [name, value] : head.headers) {
    if (iequals(name, "Host")) {
      if (hasHost) return error(400, "bad_request", "more than one Host header");
      hasHost = true;
    } else if (iequals(name, "Transfer-Encoding")) {
      return error(411, "length_required", "request bodies must have a Content-Length");
    } else if (iequals(name, "Content-Length")) {
      auto v = parseUnsignedDecimal(value);
      if (!v.isOk()) return error(400, "bad_request", "malformed Content-Length");
      if (contentLength && *contentLength != *v) {
        return error(400, "bad_request", "conflicting Content-Length headers");
      }
      contentLength = *v;
    } else if (iequals(name, "Expect")) {
      f.expectContinue = iequals(value, "100-continue");
    } else if (iequals(name, "Connection")) {
      std::string lower;
      for (char c : value)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      if (lower.find("close") != std::string::npos) closeRequested = true;
      if (lower.find("keep-alive") != std::string::npos) keepAliveRequested = true;
    }
  }
  bool http11 = head.version == "HTTP/1.1";
  if (http11 && !hasHost) return error(400, "bad_request", "HTTP/1.1 requests need a Host header");
  if (contentLength && *contentLength > opts.maxBodyBytes) {
    return error(413, "payload_too_large",
                 "the request body is larger than " + std::to_string(opts.maxBodyBytes) + " bytes");
  }
  f.bodyLen = contentLength ? static_cast<size_t>(*contentLength) : 0;
  f.keepAlive = http11 ? !closeRequested : keepAliveRequested;
  return f;
}

// A connection the server holds, between requests or while one arrives. The reactor owns it
// until its request is complete (head and body, or head alone with Expect: 100-continue) or has
// failed, then a worker owns it until the response is written; a kept-alive connection goes back
// to the reactor.
struct Conn {
  explicit Conn(int f) : fd(f) {}
  int fd;
  std::string in;        // bytes read and not yet used (may hold the start of the next request)
  int served = 0;        // requests answered on this connection
  bool started = false;  // the first byte of the current request has arrived
  SteadyClock::time_point requestDeadline{};  // the whole request, once started
  SteadyClock::time_point readDeadline{};     // the next byte
  Head head;                                  // parsed when the reactor hands the connection over
  Framing framing;
  bool draining = false;  // an error response was sent; reading and dropping until EOF
  size_t drained = 0;
};

}  // namespace

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, const std::vector<Route>& r) : opts(o), routes(r) {}

  const HttpServerOptions& opts;
  const std::vector<Route>& routes;
  Poco::AutoPtr<Poco::Net::HTTPServerParams> params{new Poco::Net::HTTPServerParams};
  int listenFd = -1;
  int wakeFd = -1;
  std::thread reactor;
  std::vector<std::thread> workers;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<Conn>> ready;      // a complete request, waiting for a worker
  std::vector<std::unique_ptr<Conn>> returned;  // kept alive by a worker, back to the reactor
  std::set<ConnSlot*> active;  // being served (shut down by stop() to unblock the worker)
  size_t waiting = 0;          // connections held and not being served (reactor + ready)
  bool stopping = false;

  // Reactor thread only.
  int epollFd = -1;
  std::map<int, std::unique_ptr<Conn>> held;

  void reactorLoop();
  void acceptOne();
  // Registers `c` with the reactor; the next byte must arrive within `waitMs`.
  void hold(std::unique_ptr<Conn> c, int waitMs);
  // Reads what is there without blocking; false on EOF or error (the connection is to be closed).
  bool readFrom(Conn& c);
  // Parses what `c` holds; hands it to the workers when its request is complete or failed.
  void advance(int fd);
  void handOff(int fd);
  // Answers an error without a worker: the response (small: it fits the socket buffer), then a
  // lingering close in the reactor, so that the client reads it before the connection goes.
  void reject(int fd, int status, const std::string& code, const std::string& message);
  // Reads and drops input of a rejected connection; false when it is to be closed.
  bool discardInput(Conn& c);
  void closeHeld(int fd);
  void expire();
  int nextTimeoutMs() const;

  void workerLoop();
  // Serves the request `c` holds; true when the connection is kept alive.
  bool serveOne(Conn& c, ConnSlot& slot);
  // Routes one parsed request; fills `resp`. Never throws.
  void dispatch(RequestImpl& req, ResponseImpl& resp);
};

void HttpServer::Impl::reactorLoop() {
  epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(epollFd, events, 64, nextTimeoutMs());
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listenFd) {
        acceptOne();
      } else if (fd == wakeFd) {
        uint64_t v;
        (void)!::read(wakeFd, &v, sizeof v);
        std::vector<std::unique_ptr<Conn>> back;
        {
          std::lock_guard lock(mu);
          if (stopping) {
            for (auto& [hfd, c] : held) ::close(hfd);
            held.clear();
            return;
          }
          back.swap(returned);
        }
        for (auto& c : back) {
          int cfd = c->fd;
          hold(std::move(c), opts.keepAliveTimeoutMs);
          advance(cfd);  // a pipelined request may already be there
        }
      } else if (auto it = held.find(fd); it != held.end()) {
        Conn& c = *it->second;
        if (c.draining) {
          if (!discardInput(c)) closeHeld(fd);
          continue;
        }
        if (readFrom(c)) {
          advance(fd);
        } else {
          closeHeld(fd);
        }
      }
    }
    expire();
  }
}

void HttpServer::Impl::acceptOne() {
  int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EMFILE || errno == ENFILE) {
      // Out of descriptors: back off instead of spinning on the pending connection.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  {
    std::lock_guard lock(mu);
    if (waiting < static_cast<size_t>(opts.maxQueued)) {
      ++waiting;
      hold(std::make_unique<Conn>(fd), opts.readTimeoutMs);
      return;
    }
  }
  std::string resp = rawResponse(503, "application/json; charset=utf-8",
                                 errorJson("overloaded", "the collector is busy; retry shortly"),
                                 false, {{"Retry-After", "1"}});
  // Best effort and never blocking the reactor: a fresh socket's buffer takes it at once.
  (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

void HttpServer::Impl::hold(std::unique_ptr<Conn> c, int waitMs) {
  const int fd = c->fd;
  c->readDeadline = SteadyClock::now() + std::chrono::milliseconds(waitMs);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = fd;
  ::epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev);
  held[fd] = std::move(c);
}

bool HttpServer::Impl::readFrom(Conn& c) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      // Bounded: a head larger than the limits fails in parseHead; a body is at most maxBodyBytes.
      if (c.in.size() > opts.maxRequestLineBytes + opts.maxHeaderBytes + opts.maxBodyBytes + 8192) {
        return true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

void HttpServer::Impl::advance(int fd) {
  Conn& c = *held.at(fd);
  if (c.in.empty()) return;
  auto now = SteadyClock::now();
  if (!c.started) {
    c.started = true;
    c.requestDeadline = now + std::chrono::milliseconds(opts.requestTimeoutMs);
  }
  c.readDeadline = std::min(c.requestDeadline, now + std::chrono::milliseconds(opts.readTimeoutMs));
  c.head = parseHead(c.in, opts);
  if (c.head.state == Head::State::kNeedMore) return;
  if (c.head.state == Head::State::kError)
    return reject(fd, c.head.status, c.head.code, c.head.message);
  c.framing = frame(c.head, opts);
  if (c.framing.status != 0) return reject(fd, c.framing.status, c.framing.code, c.framing.message);
  bool bodyHere = c.in.size() >= c.head.end + c.framing.bodyLen;
  if (!bodyHere && !c.framing.expectContinue) return;  // the body is still on its way
  handOff(fd);
}

void HttpServer::Impl::reject(int fd, int status, const std::string& code,
                              const std::string& message) {
  Conn& c = *held.at(fd);
  std::string resp =
      rawResponse(status, "application/json; charset=utf-8", errorJson(code, message), false, {});
  (void)!::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  c.draining = true;
  c.in.clear();
  c.readDeadline = SteadyClock::now() + std::chrono::milliseconds(kLingerMs);
  if (!discardInput(c)) closeHeld(fd);
}

bool HttpServer::Impl::discardInput(Conn& c) {
  char buf[8192];
  while (c.drained < kMaxDrainBytes) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.drained += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return false;
}

void HttpServer::Impl::handOff(int fd) {
  ::epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nullptr);
  auto node = held.extract(fd);
  std::lock_guard lock(mu);
  ready.push_back(std::move(node.mapped()));
  cv.notify_one();
}

void HttpServer::Impl::closeHeld(int fd) {
  ::epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  held.erase(fd);
  std::lock_guard lock(mu);
  --waiting;
}

// Idle connections past their wait are closed quietly, requests past a deadline get 408, and
// rejected connections are closed when their lingering time is over.
void HttpServer::Impl::expire() {
  auto now = SteadyClock::now();
  std::vector<int> late;
  for (auto& [fd, c] : held) {
    if (c->readDeadline <= now) late.push_back(fd);
  }
  for (int fd : late) {
    Conn& c = *held.at(fd);
    if (!c.started || c.draining) {
      closeHeld(fd);
    } else {
      reject(fd, 408, "request_timeout", "the request did not arrive in time");
    }
  }
}

int HttpServer::Impl::nextTimeoutMs() const {
  if (held.empty()) return -1;
  auto first = SteadyClock::time_point::max();
  for (const auto& [fd, c] : held) first = std::min(first, c->readDeadline);
  return std::max(1, remainingMs(first) + 1);
}

void HttpServer::Impl::workerLoop() {
  for (;;) {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !ready.empty(); });
      if (stopping) return;
      c = std::move(ready.front());
      ready.pop_front();
      --waiting;
    }
    ConnSlot slot{&mu, c->fd};
    {
      std::lock_guard lock(mu);
      active.insert(&slot);
    }
    bool keep = false;
    try {
      keep = serveOne(*c, slot);
    } catch (const std::exception& e) {
      spdlog::error("http connection: {}", e.what());
    }
    std::lock_guard lock(mu);
    active.erase(&slot);
    if (slot.fd < 0) continue;  // closed, or detached by its handler
    if (keep && !stopping) {
      ++waiting;
      returned.push_back(std::move(c));
      uint64_t one = 1;
      (void)!::write(wakeFd, &one, sizeof one);
    } else {
      ::close(slot.fd);
    }
  }
}

// Serves the request the reactor collected. Returns true to keep the connection for another
// request; on false the connection has been closed, detached, or is to be closed by the caller.
bool HttpServer::Impl::serveOne(Conn& c, ConnSlot& slot) {
  const int fd = c.fd;
  auto closeFd = [&] {
    std::lock_guard lock(mu);
    if (slot.fd >= 0) ::close(slot.fd);
    slot.fd = -1;
    return false;
  };
  auto fail = [&](int status, const std::string& code, const std::string& message) {
    std::string resp =
        rawResponse(status, "application/json; charset=utf-8", errorJson(code, message), false, {});
    writeAll(fd, resp, SteadyClock::now() + std::chrono::milliseconds(opts.readTimeoutMs));
    ::shutdown(fd, SHUT_WR);
    lingerAndDrain(fd);
    return closeFd();
  };
  const Head& head = c.head;
  const Framing& f = c.framing;

  if (f.expectContinue && c.in.size() < head.end + f.bodyLen) {
    // The client waits for this before sending the body it announced (curl does).
    constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!writeAll(fd, kContinue,
                  SteadyClock::now() + std::chrono::milliseconds(opts.readTimeoutMs))) {
      return closeFd();
    }
    while (c.in.size() < head.end + f.bodyLen) {
      int wait = std::min(opts.readTimeoutMs, remainingMs(c.requestDeadline));
      pollfd p{fd, POLLIN, 0};
      int r = wait > 0 ? ::poll(&p, 1, wait) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return fail(408, "request_timeout", "the request body did not arrive in time");
      char buf[8192];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return closeFd();
      c.in.append(buf, static_cast<size_t>(n));
    }
  }
  std::string body = c.in.substr(head.end, f.bodyLen);
  c.in.erase(0, head.end + f.bodyLen);

  ResponseImpl resp;
  RequestImpl req(resp, std::move(body), addressOf(fd, true), addressOf(fd, false), *params, &slot);
  req.setMethod(head.method);
  req.setURI(head.target);
  req.setVersion(head.version);
  for (auto& [name, value] : head.headers) req.add(name, value);
  bool keepAlive = f.keepAlive;
  dispatch(req, resp);
  if (req.detached()) return false;  // the handler owns the connection now
  if (!resp.getKeepAlive()) keepAlive = false;

  std::string payload = resp.body();
  std::string out = "HTTP/1.1 " + std::to_string(static_cast<int>(resp.getStatus())) + " " +
                    resp.getReason() + "\r\n";
  bool hasServer = false;
  for (const auto& [name, value] : resp) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection") ||
        iequals(name, "Transfer-Encoding")) {
      continue;
    }
    hasServer = hasServer || iequals(name, "Server");
    out += name + ": " + value + "\r\n";
  }
  if (!hasServer) out += "Server: zynd-collector\r\n";
  ++c.served;
  if (c.served >= opts.maxKeepAliveRequests) keepAlive = false;
  out += "Content-Length: " + std::to_string(payload.size()) + "\r\n";
  out += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (head.method != "HEAD") out += payload;
  if (!writeAll(fd, out, SteadyClock::now() + std::chrono::milliseconds(opts.readTimeoutMs))) {
    return closeFd();
  }
  if (!keepAlive) {
    ::shutdown(fd, SHUT_WR);
    return closeFd();
  }
  c.started = false;
  c.head = Head();
  c.framing = Framing();
  return true;
}

void HttpServer::Impl::dispatch(RequestImpl& req, ResponseImpl& resp) {
  try {
    const std::string& uri = req.getURI();
    std::string_view rawPath = std::string_view(uri).substr(0, uri.find('?'));
    std::vector<std::string> segs = splitPath(rawPath);
    std::string allow;
    const std::string& method = req.getMethod();
    for (const auto& r : routes) {
      if (r.segments.size() != segs.size()) continue;
      PathParams params;
      bool match = true;
      for (size_t i = 0; i < segs.size() && match; ++i) {
        if (isParam(r.segments[i])) {
          auto decoded = percentDecode(segs[i]);
          if (!decoded.isOk()) {
            sendError(resp, 400, "bad_path", "path segment: " + decoded.status().message());
            return;
          }
          params[r.segments[i].substr(1, r.segments[i].size() - 2)] = std::move(decoded).value();
        } else if (r.segments[i] != segs[i]) {
          match = false;
        }
      }
      if (!match) continue;
      if (r.method != method && !(r.method == "GET" && method == "HEAD")) {
        auto add = [&](const std::string& m) {
          if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + m;
        };
        add(r.method);
        if (r.method == "GET") add("HEAD");
        continue;
      }
      r.handler(req, resp, params);
      if (!resp.sent() && !req.detached()) {
        spdlog::error("{} {}: handler sent no response", method, sanitizeUtf8(uri));
        sendError(resp, 500, "internal", "the handler sent no response");
      }
      return;
    }
    if (!allow.empty()) {
      resp.set("Allow", allow);
      sendError(resp, 405, "method_not_allowed",
                "method " + method + " is not allowed here; allowed: " + allow);
      return;
    }
    sendError(resp, 404, "not_found", "no such path");
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", req.getMethod(), sanitizeUtf8(req.getURI()), e.what());
    if (req.detached()) return;
    try {
      resp.reset();
      sendError(resp, 500, "internal", "the request failed inside the collector");
    } catch (const std::exception& e2) {
      spdlog::error("cannot build the error response: {}", e2.what());
    }
  }
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(Route{method, splitPath(pattern), std::move(handler)});
}

Status HttpServer::bind() {
  if (impl_) return Status::ok();  // already bound
  auto impl = std::make_unique<Impl>(options_, routes_);
  std::string where = options_.host + ":" + std::to_string(options_.port);
  try {
    Poco::Net::SocketAddress addr(options_.host, options_.port);
    int fd = ::socket(addr.family() == Poco::Net::SocketAddress::IPv6 ? AF_INET6 : AF_INET,
                      SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::ioError("cannot listen on " + where + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, addr.addr(), addr.length()) != 0 || ::listen(fd, 512) != 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::ioError("cannot listen on " + where + ": " + why);
    }
    impl->listenFd = fd;
    boundPort_ = addressOf(fd, false).port();
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot listen on " + where + ": " + e.displayText());
  }
  impl_ = std::move(impl);
  return Status::ok();
}

Status HttpServer::start() {
  ZC_RETURN_IF_ERROR(bind());
  Impl* p = impl_.get();
  if (p->wakeFd >= 0) return Status::failedPrecondition("HTTP server already started");
  p->wakeFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p->wakeFd < 0) return Status::ioError(std::string("eventfd: ") + std::strerror(errno));
  p->params->setMaxThreads(options_.maxThreads);
  p->params->setMaxQueued(options_.maxQueued);
  p->params->setServerName("zynd-collector");
  p->epollFd = ::epoll_create1(EPOLL_CLOEXEC);
  if (p->epollFd < 0) return Status::ioError(std::string("epoll: ") + std::strerror(errno));
  for (int fd : {p->listenFd, p->wakeFd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(p->epollFd, EPOLL_CTL_ADD, fd, &ev);
  }
  for (int i = 0; i < std::max(1, options_.maxThreads); ++i) {
    p->workers.emplace_back([p] { p->workerLoop(); });
  }
  p->reactor = std::thread([p] { p->reactorLoop(); });
  return Status::ok();
}

void HttpServer::stop() noexcept {
  if (!impl_) return;
  Impl& p = *impl_;
  {
    std::lock_guard lock(p.mu);
    p.stopping = true;
    for (ConnSlot* c : p.active) {
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    p.cv.notify_all();
  }
  uint64_t one = 1;
  if (p.wakeFd >= 0) (void)!::write(p.wakeFd, &one, sizeof one);
  if (p.reactor.joinable()) p.reactor.join();
  for (auto& t : p.workers) {
    if (t.joinable()) t.join();
  }
  for (auto& c : p.ready) ::close(c->fd);
  for (auto& c : p.returned) ::close(c->fd);
  for (auto& [fd, c] : p.held) ::close(fd);  // when the reactor never ran
  p.ready.clear();
  p.returned.clear();
  p.held.clear();
  ::close(p.listenFd);
  if (p.wakeFd >= 0) ::close(p.wakeFd);
  if (p.epollFd >= 0) ::close(p.epollFd);
  impl_.reset();
}

int detachConnection(HTTPServerRequest& req) noexcept {
  auto* impl = dynamic_cast<RequestImpl*>(&req);
  if (impl == nullptr) return -1;
  return impl->detach();
}

void sendJsonText(HTTPServerResponse& resp, int status, const std::string& json) {
  resp.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  resp.setContentType("application/json; charset=utf-8");
  resp.set("Cache-Control", "no-store");
  resp.setContentLength(static_cast<std::streamsize>(json.size()));
  resp.send().write(json.data(), static_cast<std::streamsize>(json.size()));
}

void sendJson(HTTPServerResponse& resp, int status, const Poco::JSON::Object& body) {
  std::ostringstream out;
  body.stringify(out);
  sendJsonText(resp, status, out.str());
}

void sendError(HTTPServerResponse& resp, int status, const std::string& code,
               const std::string& message) {
  sendJsonText(resp, status, errorJson(code, message));
}

}  // namespace zc::exporters
