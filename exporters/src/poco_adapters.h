// Poco's HTTPServerRequest / HTTPServerResponse interfaces over a request the server has already
// read in full: handlers keep Poco's API while the server does its own parsing and I/O.
// ServerResponse buffers the body (sent with a Content-Length once the handler returns);
// ServerRequest holds the body and the connection's slot, through which a handler may take the
// connection away (detachConnection(), used by SSE).
//
// Thread-safety: one request and its response belong to the worker serving them; the slot's
// descriptor is guarded by the server's mutex because stop() shuts active connections down.
#pragma once

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SocketAddress.h>

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "zc/exporters/http_server.h"
#include "zc/exporters/transport.h"
#include "zc/status.h"

namespace zc::exporters {

class ServerResponse final : public Poco::Net::HTTPServerResponse {
 public:
  ServerResponse() { setVersion(HTTP_1_1); }
  void sendContinue() override {}
  std::ostream& send() override;
  void sendFile(const std::string& path, const std::string& mediaType) override;
  void sendBuffer(const void* buffer, std::size_t length) override;
  void redirect(const std::string& uri, HTTPStatus status) override;
  void requireAuthentication(const std::string& realm) override;
  bool sent() const override { return sent_; }
  // The body as a whole, marking the response sent: no stream, no copy (a large JSON page).
  void setBody(std::string body) {
    sent_ = true;
    direct_ = std::move(body);
    hasDirect_ = true;
  }
  // The body, moved out (what setBody() was given, else what was written to send()).
  std::string takeBody() { return hasDirect_ ? std::move(direct_) : body_.str(); }
  // A body made piece by piece (a whole log, however large): `next` appends the next piece to
  // its argument and answers true while more follows, false after the last piece, or an error
  // (the connection is then cut: the client sees a truncated chunked body, never a wrong one).
  // Sent with chunked framing; the server calls `next` on a worker only when the client has
  // taken the previous piece, so memory stays one piece per connection.
  using BodyProducer = std::function<Result<bool>(std::string& piece)>;
  void setProducer(BodyProducer next) {
    sent_ = true;
    producer_ = std::move(next);
  }
  BodyProducer takeProducer() { return std::move(producer_); }
  // Forgets everything a failed handler may have set or written.
  void reset();

 private:
  BodyProducer producer_;
  std::ostringstream body_;
  std::string direct_;
  bool hasDirect_ = false;
  bool sent_ = false;
};

// The descriptor of a connection being served; -1 once closed or detached. Guarded by `mu`, the
// server's mutex. `io` points at the connection's transport (moved out by detach()).
struct ConnSlot {
  std::mutex* mu;
  int fd;
  std::unique_ptr<Transport>* io = nullptr;
};

class ServerRequest final : public Poco::Net::HTTPServerRequest {
 public:
  ServerRequest(ServerResponse& resp, std::string body, Poco::Net::SocketAddress client,
                Poco::Net::SocketAddress server, const Poco::Net::HTTPServerParams& params,
                ConnSlot* slot, bool tls = false);
  std::istream& stream() override { return body_; }
  const Poco::Net::SocketAddress& clientAddress() const override { return client_; }
  const Poco::Net::SocketAddress& serverAddress() const override { return server_; }
  const Poco::Net::HTTPServerParams& serverParams() const override { return params_; }
  Poco::Net::HTTPServerResponse& response() const override { return resp_; }
  bool secure() const override { return tls_; }
  bool isTls() const noexcept { return tls_; }

  // Hands the connection over; the slot reads -1 from then on and the server forgets it.
  std::unique_ptr<Transport> detach() noexcept;
  bool detached() const noexcept { return detached_; }

  Requester requester;  // set by the access checks before routing

 private:
  ServerResponse& resp_;
  std::istringstream body_;
  Poco::Net::SocketAddress client_;
  Poco::Net::SocketAddress server_;
  const Poco::Net::HTTPServerParams& params_;
  ConnSlot* slot_;
  bool tls_;
  bool detached_ = false;
};

}  // namespace zc::exporters
