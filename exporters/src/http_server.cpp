#include "zc/exporters/http_server.h"

#include <Poco/Net/SocketAddress.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http_connection.h"
#include "http_reactor.h"
#include "http_router.h"
#include "http_workers.h"
#include "peer_limit.h"
#include "tls_context.h"

namespace zc::exporters {

struct HttpServer::Impl {
  Impl(const HttpServerOptions& o, int fd, const Router& router, const TlsHolder& tls)
      : listenFd(fd),
        peers(o.maxConnectionsPerPeer),
        queue(static_cast<size_t>(std::max(0, o.maxQueued))),
        reactor(o, queue, fd, peers, tls),
        workers(o, queue, router) {}
  ~Impl() { ::close(listenFd); }

  int listenFd;
  PeerLimit peers;  // first: every connection (queued, held, served) holds one of its leases
  ConnectionQueue queue;
  Reactor reactor;
  WorkerPool workers;
};

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)),
      router_(std::make_unique<Router>()),
      tls_(std::make_unique<TlsHolder>()) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  router_->add(method, pattern, std::move(handler));
}

std::vector<std::pair<std::string, std::string>> HttpServer::routes() const {
  return router_->table();
}

void HttpServer::setAccessControl(const AccessControl* access) noexcept {
  router_->setAccess(access);
}

void HttpServer::setRequestObserver(RequestObserver* observer) noexcept {
  router_->setObserver(observer);
}

Status HttpServer::bind() {
  if (impl_) return Status::ok();  // already bound
  if (options_.tls.enabled() || !options_.tls.keyFile.empty() ||
      !options_.tls.clientCaFile.empty()) {
    auto ctx = TlsContext::load(options_.tls);
    if (!ctx.isOk()) return ctx.status();
    tls_->set(std::move(ctx).value());
  }
  std::string where = options_.host + ":" + std::to_string(options_.port);
  int fd = -1;
  try {
    Poco::Net::SocketAddress addr(options_.host, options_.port);
    fd = ::socket(addr.family() == Poco::Net::SocketAddress::IPv6 ? AF_INET6 : AF_INET,
                  SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::ioError("cannot listen on " + where + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, addr.addr(), addr.length()) != 0 || ::listen(fd, 512) != 0) {
      std::string why = std::strerror(errno);
      ::close(fd);
      return Status::ioError("cannot listen on " + where + ": " + why);
    }
  } catch (const Poco::Exception& e) {
    if (fd >= 0) ::close(fd);
    return Status::ioError("cannot listen on " + where + ": " + e.displayText());
  }
  impl_ = std::make_unique<Impl>(options_, fd, *router_, *tls_);
  boundPort_ = addressOf(fd, false).port();
  return Status::ok();
}

Status HttpServer::start() {
  ZC_RETURN_IF_ERROR(bind());
  Impl& p = *impl_;
  ZC_RETURN_IF_ERROR(p.queue.open());
  p.workers.start();  // the workers first: the reactor accepts once they are there
  ZC_RETURN_IF_ERROR(p.reactor.start());
  return Status::ok();
}

Status HttpServer::reloadTls() {
  if (!options_.tls.enabled()) return Status::failedPrecondition("the server does not use TLS");
  auto ctx = TlsContext::load(options_.tls);
  if (!ctx.isOk()) return ctx.status();
  tls_->set(std::move(ctx).value());
  return Status::ok();
}

void HttpServer::stop() noexcept {
  if (!impl_) return;
  impl_->queue.stop();
  impl_->reactor.join();
  impl_->workers.join();
  impl_.reset();  // closes queued and held connections, then the listening socket
}

}  // namespace zc::exporters
