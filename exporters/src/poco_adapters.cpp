#include "poco_adapters.h"

#include <fstream>

#include "zc/exporters/http_server.h"

namespace zc::exporters {

std::ostream& ServerResponse::send() {
  sent_ = true;
  return body_;
}

void ServerResponse::sendFile(const std::string& path, const std::string& mediaType) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Poco::FileNotFoundException(path);
  setContentType(mediaType);
  sent_ = true;
  body_ << f.rdbuf();
}

void ServerResponse::sendBuffer(const void* buffer, std::size_t length) {
  sent_ = true;
  body_.write(static_cast<const char*>(buffer), static_cast<std::streamsize>(length));
}

void ServerResponse::redirect(const std::string& uri, HTTPStatus status) {
  setStatusAndReason(status);
  set("Location", uri);
  sent_ = true;
}

void ServerResponse::requireAuthentication(const std::string& realm) {
  setStatusAndReason(HTTP_UNAUTHORIZED);
  set("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  sent_ = true;
}

void ServerResponse::reset() {
  clear();
  setStatusAndReason(HTTP_OK);
  body_.str(std::string());
  body_.clear();
  std::string().swap(direct_);
  hasDirect_ = false;
  producer_ = nullptr;
  sent_ = false;
}

ServerRequest::ServerRequest(ServerResponse& resp, std::string body,
                             Poco::Net::SocketAddress client, Poco::Net::SocketAddress server,
                             const Poco::Net::HTTPServerParams& params, ConnSlot* slot,
                             bool tls)
    : resp_(resp),
      body_(std::move(body)),
      client_(std::move(client)),
      server_(std::move(server)),
      params_(params),
      slot_(slot),
      tls_(tls) {}

std::unique_ptr<Transport> ServerRequest::detach() noexcept {
  std::lock_guard lock(*slot_->mu);
  if (slot_->fd < 0 || slot_->io == nullptr) return nullptr;
  slot_->fd = -1;
  detached_ = true;
  return std::move(*slot_->io);
}

std::unique_ptr<Transport> detachConnection(Poco::Net::HTTPServerRequest& req) noexcept {
  auto* impl = dynamic_cast<ServerRequest*>(&req);
  if (impl == nullptr) return nullptr;
  return impl->detach();
}

bool isTls(const Poco::Net::HTTPServerRequest& req) noexcept {
  const auto* impl = dynamic_cast<const ServerRequest*>(&req);
  return impl != nullptr && impl->isTls();
}

const Requester& requesterOf(const Poco::Net::HTTPServerRequest& req) noexcept {
  static const Requester kAnonymous;
  const auto* impl = dynamic_cast<const ServerRequest*>(&req);
  return impl == nullptr ? kAnonymous : impl->requester;
}

}  // namespace zc::exporters
