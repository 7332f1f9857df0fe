// A real Caddy for the integration tests: `caddy run` with one route per given id ("@id" = the
// id, matching /<id>/*), its admin API on a free loopback port; stopped (SIGTERM, then SIGKILL)
// on destruction. Tests check routes through the admin API (/id/<id>), as the router does.
#pragma once

#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "collector_process.h"
#include "test_support.h"

namespace zc::testing {

// A real Caddy with one route per deployment, its admin API on a free loopback port.
class Caddy {
 public:
  explicit Caddy(const std::vector<std::string>& routeIds) : admin_(freePort()) {
    std::string cfg = dir_.path() + "/caddy.json";
    std::string routes;
    for (const auto& id : routeIds) {
      routes += std::string(routes.empty() ? "" : ",") + R"({"@id":")" + id +
                R"(","match":[{"path":["/)" + id + R"(/*"]}],"handle":[{"handler":"static_response","body":"ok"}]})";
    }
    std::ofstream(cfg) << R"({"admin":{"listen":"127.0.0.1:)" << admin_
                       << R"("},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:)" << freePort()
                       << R"("],"routes":[)" << routes << "]}}}}}";
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/caddy", "run", "--config", cfg},
        std::vector<std::string>{"HOME=" + dir_.path(), "XDG_DATA_HOME=" + dir_.path(),
                                 "XDG_CONFIG_HOME=" + dir_.path()});
  }
  Caddy(const Caddy&) = delete;
  Caddy& operator=(const Caddy&) = delete;
  ~Caddy() {
    proc_->signal(SIGTERM);
    if (proc_->wait(std::chrono::seconds(5)) == -1) proc_->signal(SIGKILL);
  }
  uint16_t admin() const { return admin_; }
  bool routeExists(const std::string& id) { return httpGet(admin_, "/id/" + id) == 200; }

 private:
  TempDir dir_;
  uint16_t admin_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace zc::testing
