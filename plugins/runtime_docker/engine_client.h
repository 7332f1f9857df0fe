// EngineClient: unary requests to the Docker Engine API over its Unix socket (Poco::Net), with
// API version negotiation.
//
// negotiate() asks GET /_ping for the engine's Api-Version and uses the lower of it and
// kMaxApiVersion; every later path is prefixed with "/v1.NN". Each request uses its own
// connection (the socket is local; this keeps requests from different threads independent).
// Poco exceptions never escape: failures come back as Status (Unavailable when the engine
// cannot be reached, Timeout, Corruption for an unreadable answer).
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include <Poco/JSON/Object.h>

#include "zc/status.h"

namespace zc::docker {

// The newest Engine API this code was written against.
constexpr int kMaxApiMinor = 43;  // 1.43
// The oldest it accepts (Config.Tty, one-shot stats, since with ns): 1.41 ships with bookworm.
constexpr int kMinApiMinor = 40;

struct HttpResult {
  int status = 0;
  std::string body;
};

class EngineClient {
 public:
  EngineClient(std::string socketPath, std::chrono::milliseconds timeout);
  // An engine that speaks its own API under a fixed path (Podman's "/v4.0.0/libpod"):
  // negotiate() still asks GET /_ping (and still requires a usable Api-Version), but apiPrefix()
  // is then `fixedPrefix` instead of "/v1.NN".
  EngineClient(std::string socketPath, std::chrono::milliseconds timeout, std::string fixedPrefix);

  const std::string& socketPath() const noexcept { return socketPath_; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

  // GET /_ping; remembers the version to use. Unavailable when the engine is not there.
  Status negotiate();
  // "/v1.41" once negotiated; negotiates first when needed.
  Result<std::string> apiPrefix();
  // The negotiated minor version (0 before negotiate()).
  int apiMinor() const;

  // `method` `prefix + path`; returns status and body (any status). `timeout` 0 = the default.
  Result<HttpResult> request(const std::string& method, std::string_view path,
                             std::chrono::milliseconds timeout = std::chrono::milliseconds(0));
  // GET returning a JSON object; NotFound on 404; Unavailable/Internal on other errors.
  Result<Poco::JSON::Object::Ptr> getObject(std::string_view path);
  // GET returning a JSON array.
  Result<Poco::JSON::Array::Ptr> getArray(std::string_view path);
  // What getObject() makes of an answer `r` to GET `path` (a request sent some other way).
  static Result<Poco::JSON::Object::Ptr> objectFrom(const HttpResult& r, std::string_view path);

  // The engine's error message from a JSON error body {"message": "..."}, or the raw body.
  static std::string errorMessage(const HttpResult& r);

 private:
  Result<HttpResult> rawRequest(const std::string& method, const std::string& uri,
                                std::chrono::milliseconds timeout, std::string* apiVersion);

  const std::string socketPath_;
  const std::chrono::milliseconds timeout_;
  const std::string fixedPrefix_;  // empty: "/v1.NN"
  mutable std::mutex mu_;
  int minor_ = 0;
};

// "filters=<json, percent-encoded>": the query parameter of the list and events endpoints, whose
// `filters` is a JSON object of string arrays. Values of one key OR together, different keys AND.
std::string filtersQuery(std::string_view json);

// Parses "1.41" into 41 (major must be 1); 0 when malformed.
int parseApiMinor(std::string_view v);

}  // namespace zc::docker
