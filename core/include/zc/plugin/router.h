// Router plugins: the reverse proxy in front of the deployments (Caddy today).
//
// The collector only ever removes a deployment's route when the deployment is stopped; routes
// are created by the deployer. Thread-safe: methods may be called from any thread.
#pragma once

#include <string_view>

#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"

namespace zc::plugin {

class Router : public Plugin {
 public:
  static constexpr ZcPluginKind kKind = ZC_PLUGIN_KIND_ROUTER;

  // Removes the route with this id. The host always passes the deployment id: the deployer gives
  // a deployment's route that id, and nothing a container carries names another route. A route
  // that does not exist is success (removal is idempotent). Unavailable when the proxy's admin
  // endpoint cannot be reached.
  virtual Status removeRoute(std::string_view routeId) noexcept = 0;
};

}  // namespace zc::plugin
