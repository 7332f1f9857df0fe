// A kept-alive HTTP/1.1 client to 127.0.0.1 for the benchmarks that time requests to the daemon
// (Poco's HTTPClientSession; 30 s timeout). Not thread-safe: one per thread.
#pragma once

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <cstdint>
#include <string>

namespace zc::bench {

class HttpClient {
 public:
  explicit HttpClient(uint16_t port) : session_("127.0.0.1", port) {
    session_.setKeepAlive(true);
    session_.setTimeout(Poco::Timespan(30, 0));
  }

  // GET `path` with the whole body read into *body: the status, or -1 on failure. A connection the
  // server has closed meanwhile fails the first attempt; the request is then sent once more on a
  // new connection (counted in resent()).
  int get(const std::string& path, std::string* body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
        session_.sendRequest(req);
        Poco::Net::HTTPResponse resp;
        std::istream& in = session_.receiveResponse(resp);
        body->clear();
        Poco::StreamCopier::copyToString(in, *body);
        return resp.getStatus();
      } catch (const Poco::Exception& e) {
        session_.reset();
        lastError_ = e.displayText();
        if (attempt == 0) ++resent_;
      }
    }
    return -1;
  }
  int resent() const { return resent_; }
  const std::string& lastError() const { return lastError_; }

 private:
  Poco::Net::HTTPClientSession session_;
  int resent_ = 0;
  std::string lastError_;
};

}  // namespace zc::bench
