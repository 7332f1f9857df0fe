// ClaimBook: which container holds each deployment when several containers claim one id.
//
// A container claims the deployment its runtime reports (its name zynd-<id>, or a zynd.deployment
// label set when it was created; image labels never count, see plugins/runtime_docker). Exactly
// one container holds a deployment: only its lines are followed and only it changes the row. The
// order, the same whatever order the containers are seen in:
//   1. the container named zynd-<id>;
//   2. then the oldest (the engine's Created time), then the lowest container id.
// A claimant that loses is refused: recorded as a conflict (for /healthz) and logged once, until
// it is released. A holder is released when its container is gone (destroy event) or a complete
// listing no longer shows it; the next claimant is then decided again.
//
// Thread-safety: every method is thread-safe (the manager's worker writes, /healthz reads).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "zc/host/collector_api.h"
#include "zc/plugin/runtime.h"

namespace zc::collector {

class ClaimBook {
 public:
  // True when `c` holds (or now takes) the deployment `c.deploymentId`. When it takes it from
  // another container, that one becomes a conflict and `*displaced` (may be null) is its id.
  // False when another container outranks it: `c` is recorded as a conflict (one warning line
  // the first time).
  bool admit(const plugin::ContainerInfo& c, std::string* displaced = nullptr);
  // True when `containerId` is a refused claimant right now.
  bool refused(const std::string& containerId) const;
  // The container is gone: it holds nothing and is no conflict any more.
  void release(const std::string& containerId);
  // After a complete listing: forgets the holders and conflicts not in `present`.
  void retainOnly(const std::set<std::string>& present);
  // The refused claimants, at most `max`, ordered by container id.
  std::vector<host::ClaimConflict> conflicts(size_t max) const;

  // Whether `a` outranks `b` for the same deployment (the order above). Pure.
  static bool outranks(const plugin::ContainerInfo& a, const plugin::ContainerInfo& b);
  // Whether the container's name is zynd-<its deployment id>.
  static bool namedFor(const plugin::ContainerInfo& c);

 private:
  struct Holder {
    std::string containerId;
    std::string name;
    TimeNs createdAt = 0;
    bool named = false;
  };
  void refuse(const plugin::ContainerInfo& c, const Holder& holder);  // mu_ held

  mutable std::mutex mu_;
  std::map<std::string, Holder> holders_;                  // by deployment id; guarded
  std::map<std::string, host::ClaimConflict> conflicts_;  // by container id; guarded
};

}  // namespace zc::collector
