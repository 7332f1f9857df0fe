#include "http_workers.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "zc/exporters/access.h"
#include "response_head.h"

namespace zc::exporters {

WorkerPool::WorkerPool(const HttpServerOptions& options, ConnectionQueue& queue,
                       const Router& router)
    : opts_(options), queue_(queue), router_(router) {
  params_->setMaxThreads(options.maxThreads);
  params_->setMaxQueued(options.maxQueued);
  params_->setServerName(kServerName);
}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::start() {
  for (int i = 0; i < std::max(1, opts_.maxThreads); ++i) {
    threads_.emplace_back([this] { loop(); });
  }
}

void WorkerPool::join() noexcept {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::loop() {
  for (;;) {
    ConnSlot slot{nullptr, -1};
    std::unique_ptr<Conn> c = queue_.popReady(slot);
    if (!c) return;
    bool keep = false;
    try {
      keep = serveOne(*c, slot);
    } catch (const std::exception& e) {
      spdlog::error("http connection: {}", e.what());
    }
    queue_.finish(std::move(c), slot, keep);
  }
}

bool WorkerPool::closeSlot(ConnSlot& slot) {
  std::lock_guard lock(*slot.mu);
  if (slot.fd >= 0 && slot.io != nullptr && *slot.io) (*slot.io)->close();
  slot.fd = -1;
  return false;
}

bool WorkerPool::serveOne(Conn& c, ConnSlot& slot) {
  const int fd = c.fd;
  Transport& io = *c.io;
  const RequestHead& head = c.head;
  const RequestFraming& f = c.framing;
  if (c.producer) return send(c, slot);  // the next pieces of a body being produced
  std::string body = c.in.substr(head.end, f.bodyLen);
  c.in.erase(0, head.end + f.bodyLen);

  ServerResponse resp;
  ServerRequest req(resp, std::move(body), addressOf(fd, true), addressOf(fd, false), *params_,
                    &slot, io.isTls());
  req.setMethod(head.method);
  req.setURI(head.target);
  req.setVersion(head.version);
  for (auto& [name, value] : head.headers) req.add(name, value);
  req.requester.address = req.clientAddress().host().toString();
  const AccessControl* access = router_.access();
  if (access == nullptr || access->admit(req, resp)) {
    router_.dispatch(req, resp);
  } else {
    router_.observeRefused(req, resp);
  }
  if (req.detached()) return false;  // the handler owns the connection now
  if (access != nullptr) access->finish(req, static_cast<int>(resp.getStatus()));

  ++c.served;
  ResponseHead out;
  out.status = static_cast<int>(resp.getStatus());
  out.reason = resp.getReason();
  for (const auto& [name, value] : resp) out.fields.emplace_back(name, value);
  std::string payload = resp.takeBody();
  ServerResponse::BodyProducer producer = resp.takeProducer();
  if (producer) {
    out.chunked = true;
  } else {
    out.contentLength = payload.size();
  }
  out.keepAlive = f.keepAlive && resp.getKeepAlive() && c.served < opts_.maxKeepAliveRequests;
  std::string bytes = writeResponseHead(out);
  if (head.method == "HEAD") {
    payload.clear();
    producer = nullptr;
  }
  // A large body goes out after the head rather than being copied behind it.
  constexpr size_t kCopyBelow = 64 * 1024;
  if (payload.size() < kCopyBelow) {
    bytes += payload;
    payload.clear();
  }
  // Written without waiting: what the socket does not take now, the reactor writes as the
  // client reads (the response's bytes move to the connection; copied only in that slow case
  // when the head itself did not go out whole).
  size_t off = 0;
  IoResult::Kind sent = writeSome(io, bytes, &off);
  if (sent == IoResult::Kind::kDone && !payload.empty()) {
    off = 0;
    sent = writeSome(io, payload, &off);
    if (sent != IoResult::Kind::kDone) c.out = std::move(payload);
  } else if (sent != IoResult::Kind::kDone) {
    c.out = bytes.substr(off) + payload;
    off = 0;
  }
  if (sent != IoResult::Kind::kDone && sent != IoResult::Kind::kWantRead &&
      sent != IoResult::Kind::kWantWrite) {
    return closeSlot(slot);
  }
  c.outOff = c.writing() ? off : 0;  // `off` counts into c.out only when it holds the rest
  c.closeAfterOut = !out.keepAlive;
  c.producer = std::move(producer);
  c.started = false;
  c.continueSent = false;
  c.head = RequestHead();
  c.framing = RequestFraming();
  return send(c, slot);
}

bool WorkerPool::send(Conn& c, ConnSlot& slot) {
  Transport& io = *c.io;
  for (;;) {
    if (c.writing()) {
      IoResult::Kind k = writeSome(io, c.out, &c.outOff);
      if (k == IoResult::Kind::kWantRead || k == IoResult::Kind::kWantWrite) {
        return true;  // to the reactor, which writes the rest as the client reads
      }
      if (k != IoResult::Kind::kDone) return closeSlot(slot);
      c.out.clear();
      c.outOff = 0;
    }
    if (!c.producer) break;
    std::string piece;
    Result<bool> more = c.producer(piece);
    if (!more.isOk()) {
      // Cut: the client sees a chunked body without its last chunk, never a wrong one.
      spdlog::warn("http: a streamed body failed: {}", more.status().toString());
      c.producer = nullptr;
      return closeSlot(slot);
    }
    if (!piece.empty()) {
      char size[24];
      int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      c.out.reserve(static_cast<size_t>(n) + piece.size() + 7);
      c.out.append(size, static_cast<size_t>(n)).append(piece).append("\r\n");
    }
    if (!*more) {
      c.out.append("0\r\n\r\n");
      c.producer = nullptr;
    }
  }
  if (c.closeAfterOut) {
    io.shutdownWrite();
    return closeSlot(slot);
  }
  return true;
}

}  // namespace zc::exporters
