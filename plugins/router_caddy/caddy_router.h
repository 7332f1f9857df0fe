// CaddyRouter: the Router plugin for Caddy 2, driven through Caddy's admin API.
//
// Routes are created by the deployer with an "@id"; this plugin only removes them, with
// DELETE {admin_url}/id/{routeId}. Options (PluginContext::options):
//   admin_url  base URL of the admin API, "http://host:port" (default http://127.0.0.1:2019)
//   timeout      connect/send/receive timeout per request, a zc::parseDuration value (default 5s)
// Thread-safe: the object is immutable after construction and every call opens its own
// connection. Construction never touches the network.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zc/plugin/plugin.h"
#include "zc/plugin/router.h"
#include "zc/status.h"

namespace zc::router {

constexpr size_t kMaxRouteIdLength = 128;
constexpr const char* kDefaultCaddyAdmin = "http://127.0.0.1:2019";
constexpr const char* kDefaultCaddyTimeout = "5s";

// True for 1-128 characters of [A-Za-z0-9_.-], except "." and ".." (path segments with a
// meaning of their own). Only such ids are ever put into a URL.
bool isValidRouteId(std::string_view id) noexcept;

class CaddyRouter final : public plugin::Router {
 public:
  // admin_url and timeout, as above.
  std::vector<plugin::OptionSpec> optionSpecs() const noexcept override;
  // Reads the options above. InvalidArgument "<key>: <why>" when one is malformed.
  Status configure(const plugin::PluginContext& context) noexcept override;

  // OK when Caddy answered 200 (removed) or 404 "unknown object ID '<routeId>'" (already gone).
  // InvalidArgument for an id isValidRouteId() rejects (nothing is sent). Unavailable when the
  // admin API cannot be reached, times out or answers 5xx; FailedPrecondition for any other
  // answer (e.g. 403 "host not allowed"). Messages are one line.
  Status removeRoute(std::string_view routeId) noexcept override;

  // The admin base URL in use, normalised: "http://127.0.0.1:2019".
  const std::string& adminUrl() const noexcept { return adminUrl_; }
  // The per-request timeout in microseconds.
  int64_t timeoutMicros() const noexcept { return timeoutMicros_; }

 private:
  Status sendDelete(const std::string& routeId);
  void log(plugin::LogLevel level, const std::string& message) const noexcept;

  std::string host_;  // what to connect to, without IPv6 brackets
  uint16_t port_ = 0;
  std::string hostHeader_;  // "127.0.0.1:2019", "[::1]:2019": Caddy refuses a Host without port
  std::string adminUrl_;    // "http://" + hostHeader_, also sent as Origin
  int64_t timeoutMicros_ = 0;
  plugin::Logger* logger_ = nullptr;
};

}  // namespace zc::router
