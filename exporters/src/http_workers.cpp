#include "http_workers.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "json_response.h"
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

bool WorkerPool::receiveBody(Conn& c, ConnSlot& slot) {
  Transport& io = *c.io;
  const size_t want = c.head.end + c.framing.bodyLen;
  // The client waits for this before sending the body it announced (curl does).
  ResponseHead interim;
  interim.status = 100;
  if (!writeAll(io, writeResponseHead(interim),
                SteadyClock::now() + std::chrono::milliseconds(opts_.readTimeoutMs))) {
    return closeSlot(slot);
  }
  IoResult::Kind need = IoResult::Kind::kWantRead;
  while (c.in.size() < want) {
    int wait = std::min(opts_.readTimeoutMs, remainingMs(c.requestDeadline));
    if (wait <= 0 || !waitFor(io, need, wait)) {
      std::string resp =
          errorResponse(408, "request_timeout", "the request body did not arrive in time");
      writeAll(io, resp, SteadyClock::now() + std::chrono::milliseconds(opts_.readTimeoutMs));
      io.shutdownWrite();
      lingerAndDrain(io.fd());
      return closeSlot(slot);
    }
    char buf[16384];
    IoResult r = io.read(buf, sizeof buf);
    if (r.kind == IoResult::Kind::kDone) {
      c.in.append(buf, r.bytes);
      need = IoResult::Kind::kWantRead;
      continue;
    }
    if (r.kind != IoResult::Kind::kWantRead && r.kind != IoResult::Kind::kWantWrite) {
      return closeSlot(slot);
    }
    need = r.kind;
  }
  return true;
}

bool WorkerPool::serveOne(Conn& c, ConnSlot& slot) {
  const int fd = c.fd;
  Transport& io = *c.io;
  const RequestHead& head = c.head;
  const RequestFraming& f = c.framing;
  if (f.expectContinue && c.in.size() < head.end + f.bodyLen && !receiveBody(c, slot)) {
    return false;
  }
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
  if (access == nullptr || access->admit(req, resp)) router_.dispatch(req, resp);
  if (req.detached()) return false;  // the handler owns the connection now
  if (access != nullptr) access->finish(req, static_cast<int>(resp.getStatus()));

  ++c.served;
  ResponseHead out;
  out.status = static_cast<int>(resp.getStatus());
  out.reason = resp.getReason();
  for (const auto& [name, value] : resp) out.fields.emplace_back(name, value);
  std::string payload = resp.takeBody();
  out.contentLength = payload.size();
  out.keepAlive = f.keepAlive && resp.getKeepAlive() && c.served < opts_.maxKeepAliveRequests;
  std::string bytes = writeResponseHead(out);
  // A large body goes out after the head rather than being copied behind it.
  constexpr size_t kCopyBelow = 64 * 1024;
  const bool withBody = head.method != "HEAD";
  if (withBody && payload.size() < kCopyBelow) bytes += payload;
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(opts_.readTimeoutMs);
  if (!writeAll(io, bytes, deadline) ||
      (withBody && payload.size() >= kCopyBelow && !writeAll(io, payload, deadline))) {
    return closeSlot(slot);
  }
  if (!out.keepAlive) {
    io.shutdownWrite();
    return closeSlot(slot);
  }
  c.started = false;
  c.head = RequestHead();
  c.framing = RequestFraming();
  return true;
}

}  // namespace zc::exporters
