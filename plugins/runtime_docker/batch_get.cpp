#include "batch_get.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "http_stream.h"

namespace zc::docker {
namespace {

// One request in flight.
struct Conn {
  size_t index = 0;  // into targets
  int fd = -1;
  std::string request;
  size_t sent = 0;
  HttpResponseReader reader;
  std::string body;
};

// Sends what is left of the request. OK with c.sent == size when all is out, OK with less when
// the socket is full; Unavailable when the connection broke.
Status sendSome(Conn& c) {
  while (c.sent < c.request.size()) {
    ssize_t w = ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
    if (w > 0) {
      c.sent += static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return Status::ok();
    } else {
      return Status::unavailable(std::string("send to the engine: ") + std::strerror(errno));
    }
  }
  return Status::ok();
}

// Feeds `n` received bytes. Returns the finished result once the response is complete or
// broken, nullopt while more is expected.
std::optional<Result<HttpResult>> feed(Conn& c, const char* p, size_t n, size_t maxBody) {
  size_t used = 0;
  if (!c.reader.headComplete()) {
    Status st = c.reader.feedHead(p, n, &used);
    if (!st.isOk()) return Result<HttpResult>(st);
    if (!c.reader.headComplete()) return std::nullopt;
  }
  bool tooLong = false;
  Status st = c.reader.feedBody(p + used, n - used, [&](const char* d, size_t len) {
    if (c.body.size() + len > maxBody) {
      tooLong = true;
      return false;
    }
    c.body.append(d, len);
    return true;
  });
  if (!st.isOk()) return Result<HttpResult>(st);
  if (tooLong) return Result<HttpResult>(Status::corruption("http: response body too long"));
  if (!c.reader.complete()) return std::nullopt;
  return Result<HttpResult>(HttpResult{c.reader.status(), std::move(c.body)});
}

}  // namespace

std::vector<Result<HttpResult>> batchGet(const std::string& socketPath,
                                         const std::vector<std::string>& targets,
                                         const BatchGetOptions& options) noexcept {
  std::vector<std::optional<Result<HttpResult>>> done(targets.size());
  std::vector<Conn> conns;  // in flight
  try {
    const size_t cap = std::max<size_t>(1, options.maxInFlight);
    conns.reserve(std::min(cap, targets.size()));
    std::vector<char> buf(64 * 1024);
    size_t next = 0;  // the first target not started
    auto finish = [&](size_t i, Result<HttpResult> r) {
      ::close(conns[i].fd);
      done[conns[i].index] = std::move(r);
      if (i + 1 != conns.size()) conns[i] = std::move(conns.back());
      conns.pop_back();
    };
    while (next < targets.size() || !conns.empty()) {
      // Start requests up to the cap.
      while (next < targets.size() && conns.size() < cap) {
        size_t index = next++;
        auto fd = connectUnix(socketPath);
        if (!fd.isOk()) {
          done[index] = fd.status();
          continue;
        }
        Conn c;
        c.index = index;
        c.fd = fd.value();
        c.request = httpGetRequest(targets[index]);
        conns.push_back(std::move(c));
        Status st = sendSome(conns.back());
        if (!st.isOk()) finish(conns.size() - 1, st);
      }
      if (conns.empty()) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          options.deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      std::vector<pollfd> fds(conns.size());
      for (size_t i = 0; i < conns.size(); ++i) {
        fds[i] = {conns[i].fd,
                  static_cast<short>(conns[i].sent < conns[i].request.size() ? POLLOUT : POLLIN),
                  0};
      }
      int pr = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      if (pr < 0 && errno != EINTR) {
        Status st = Status::internal(std::string("poll(): ") + std::strerror(errno));
        while (!conns.empty()) finish(conns.size() - 1, st);
        break;
      }
      if (pr <= 0) continue;
      // Backwards: finish() moves the last connection into slot i.
      for (size_t i = fds.size(); i-- > 0;) {
        if (fds[i].revents == 0) continue;
        Conn& c = conns[i];
        if (c.sent < c.request.size()) {
          Status st = sendSome(c);
          if (!st.isOk()) finish(i, st);
          continue;
        }
        ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
        if (n < 0) {
          finish(i, Status::unavailable(std::string("read from the engine: ") + std::strerror(errno)));
          continue;
        }
        if (n == 0) {  // the peer closed
          Status st = c.reader.atEof();
          if (st.isOk()) {
            finish(i, HttpResult{c.reader.status(), std::move(c.body)});
          } else {
            finish(i, st);
          }
          continue;
        }
        auto r = feed(c, buf.data(), static_cast<size_t>(n), options.maxBodyBytes);
        if (r) finish(i, std::move(*r));
      }
    }
    // The deadline passed: what is still open or not started gets Timeout.
    while (!conns.empty()) {
      finish(conns.size() - 1, Status::timeout("no answer from the engine in time"));
    }
    std::vector<Result<HttpResult>> out;
    out.reserve(targets.size());
    for (auto& d : done) {
      out.push_back(d ? std::move(*d) : Result<HttpResult>(Status::timeout("not asked in time")));
    }
    return out;
  } catch (const std::exception& e) {  // allocation failure: what is not done fails with it
    for (Conn& c : conns) ::close(c.fd);
    std::vector<Result<HttpResult>> out;
    for (auto& d : done) {
      out.push_back(d ? std::move(*d) : Result<HttpResult>(Status::internal(e.what())));
    }
    return out;
  }
}

}  // namespace zc::docker
