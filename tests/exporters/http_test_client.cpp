#include "http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>

namespace zc::testing {
namespace {

using Clock = std::chrono::steady_clock;

int msLeft(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Reads into `buf` until `done(buf)` or EOF/timeout. Returns false on timeout.
template <typename Done>
bool readUntil(int fd, std::string& buf, Clock::time_point deadline, bool* eof, Done done) {
  while (!done(buf)) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, msLeft(deadline));
    if (r <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) {
      *eof = true;
      return done(buf);
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
  return true;
}

// Parses the head at the start of `buf` (complete, ends with CRLFCRLF). Returns the head length.
size_t parseHead(const std::string& buf, HttpReply& r) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  std::string head = buf.substr(0, end);
  size_t nl = head.find("\r\n");
  std::string statusLine = head.substr(0, nl);
  if (statusLine.size() >= 12 && statusLine.rfind("HTTP/1.", 0) == 0) {
    r.status = std::atoi(statusLine.c_str() + 9);
  }
  size_t pos = nl == std::string::npos ? head.size() : nl + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    pos = e + 2;
  }
  return end + 4;
}

}  // namespace

int connectLoopback(uint16_t port, int rcvbuf) {
  return connectLoopbackFrom(nullptr, port, rcvbuf);
}

int connectLoopbackFrom(const char* from, uint16_t port, int rcvbuf) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (from != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpReply rawRequest(uint16_t port, const std::string& raw, int timeoutMs) {
  HttpReply r;
  int fd = connectLoopback(port);
  if (fd < 0) return r;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  size_t off = 0;
  while (off < raw.size()) {
    ssize_t n = ::send(fd, raw.data() + off, raw.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading everything
    off += static_cast<size_t>(n);
  }
  std::string buf;
  bool eof = false;
  readUntil(fd, buf, deadline, &eof,
            [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; });
  size_t headLen = parseHead(buf, r);
  if (headLen == 0) {
    ::close(fd);
    r.status = 0;
    return r;
  }
  std::string cl = r.header("content-length");
  if (!cl.empty()) {
    size_t want = headLen + std::stoul(cl);
    readUntil(fd, buf, deadline, &eof, [want](const std::string& b) { return b.size() >= want; });
    r.body = buf.substr(headLen, std::min(buf.size(), want) - headLen);
  } else {
    readUntil(fd, buf, deadline, &eof, [&eof](const std::string&) { return eof; });
    r.body = buf.substr(headLen);
  }
  ::close(fd);
  return r;
}

HttpReply httpRequest(uint16_t port, const std::string& method, const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  raw += "\r\n";
  return rawRequest(port, raw);
}

bool isValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto x = static_cast<unsigned char>(s[i + k]);
      if ((x & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (x & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
      return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

uint16_t freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

SseClient::~SseClient() {
  close();
}

void SseClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SseClient::open(uint16_t port, const std::string& target, std::optional<uint64_t> lastEventId,
                     int rcvbuf, int timeoutMs) {
  close();
  reply_ = HttpReply();
  buf_.clear();
  raw_.clear();
  eof_ = false;
  comments_ = 0;
  retry_.clear();
  fd_ = connectLoopback(port, rcvbuf);
  if (fd_ < 0) return false;
  std::string req =
      "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  if (lastEventId) req += "Last-Event-ID: " + std::to_string(*lastEventId) + "\r\n";
  req += "\r\n";
  if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    return false;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  std::string head;
  if (!readUntil(fd_, head, deadline, &eof_,
                 [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; })) {
    return false;
  }
  size_t n = parseHead(head, reply_);
  buf_ = head.substr(n);
  raw_ = buf_;
  if (reply_.status != 200) {
    // An error answer: read its body.
    std::string cl = reply_.header("content-length");
    size_t want = cl.empty() ? 0 : std::stoul(cl);
    readUntil(fd_, buf_, deadline, &eof_,
              [want](const std::string& b) { return b.size() >= want; });
    reply_.body = buf_;
  }
  return true;
}

bool SseClient::readMore(int timeoutMs) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf_.append(tmp, static_cast<size_t>(n));
  raw_.append(tmp, static_cast<size_t>(n));
  return true;
}

std::optional<SseEvent> SseClient::next(int timeoutMs) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    size_t end;
    while ((end = buf_.find("\n\n")) != std::string::npos) {
      std::string block = buf_.substr(0, end);
      buf_.erase(0, end + 2);
      SseEvent ev;
      bool any = false;
      size_t pos = 0;
      while (pos <= block.size()) {
        size_t e = block.find('\n', pos);
        if (e == std::string::npos) e = block.size();
        std::string line = block.substr(pos, e - pos);
        pos = e + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        size_t colon = line.find(':');
        std::string field = line.substr(0, colon);
        std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        if (field == "event") {
          ev.event = value;
          any = true;
        } else if (field == "id") {
          ev.id = value;
          any = true;
        } else if (field == "data") {
          ev.data += (ev.data.empty() ? "" : "\n") + value;
          any = true;
        } else if (field == "retry") {
          retry_ = value;
        }
      }
      if (any) {
        if (ev.event.empty()) ev.event = "message";
        return ev;
      }
    }
    int left = msLeft(deadline);
    if (left == 0 || !readMore(left)) {
      if (eof_ || msLeft(deadline) == 0) return std::nullopt;
    }
  }
}

std::vector<SseEvent> SseClient::drain(int timeoutMs) {
  std::vector<SseEvent> out;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
  while (auto ev = next(msLeft(deadline))) out.push_back(*ev);
  return out;
}

}  // namespace zc::testing
