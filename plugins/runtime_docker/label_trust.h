// Label trust: which of a container's zynd.* labels the deployer set.
//
// Docker copies an image's LABELs into every container made from it, so container inspect's
// Config.Labels holds the image's labels merged with those given at `docker run`. A zynd.* label
// whose key AND value the image itself carries (image inspect's Config.Labels) could have been
// baked into the image by whoever built it: it is ignored. Only the container's name and the
// zynd.* labels set when it was created decide which deployment it is and what its row says.
// (A deployer that sets a label to the very value the image carries loses nothing that matters:
// its container is also named zynd-<id>.)
//
// ImageLabelCache remembers each image's zynd.* labels by image id (ids are content hashes, so an
// entry never goes stale), at most `capacity` images (the oldest entry goes first), and warns once
// per cached image that carries zynd.* labels.
//
// Thread-safety: the free functions are pure; ImageLabelCache is thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine_client.h"
#include "zc/plugin/plugin.h"
#include "zc/plugin/runtime.h"
#include "zc/status.h"

namespace zc::docker {

using Labels = std::map<std::string, std::string>;

// True for keys the collector reads ("zynd." and anything after it).
bool isZyndLabel(std::string_view key) noexcept;

// The zynd.* labels of `labels`.
Labels zyndLabels(const Labels& labels);

// `containerLabels` without the zynd.* labels that `imageLabels` carries with the same value.
// Other labels are kept as they are (the collector reads none of them).
Labels deployerLabels(const Labels& containerLabels, const Labels& imageLabels);

// "zynd.deployment=victim, zynd.route-id=other": for the warning; keys and values are cut at 64
// bytes and bytes outside printable ASCII become '?' (labels are untrusted).
std::string describeLabels(const Labels& labels);

class ImageLabelCache {
 public:
  static constexpr size_t kDefaultCapacity = 256;
  // OWNERSHIP: `logger` (may be null) must outlive the cache.
  ImageLabelCache(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
                  size_t capacity = kDefaultCapacity);

  // The zynd.* labels image `imageId` carries (GET /images/{id}/json, Config.Labels), from the
  // cache when there. An image the engine no longer has (NotFound) counts as carrying every
  // zynd.* label, so `*unknownImage` is set and the caller trusts none (fail closed); nothing is
  // cached then. Other errors (engine unreachable, bad answer) are returned.
  Result<Labels> zyndLabelsOf(const std::string& imageId, bool* unknownImage);

  size_t size() const;

 private:
  std::shared_ptr<EngineClient> engine_;
  plugin::Logger* logger_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, Labels, std::less<>> byImage_;  // guarded by mu_
  std::deque<std::string> order_;                        // guarded: insertion order, for eviction
};

// GET /containers/{id}/json, mapped with the image's zynd.* labels taken off: the trusted view
// of one container. NotFound when it does not exist or is not a deployment container.
Result<plugin::ContainerInfo> inspectDeployment(EngineClient& engine, ImageLabelCache& images,
                                                std::string_view containerId);

// An event whose deployment id came from the zynd.deployment label alone (parseEvent's
// labelClaim): true when it may be passed on, with `event.deploymentId` set to what the
// container's trusted inspect says. False (drop it) when the container is not a deployment once
// its image's labels are taken off. A destroy is passed on unchanged (the container cannot be
// inspected any more; the host only ends what it knows of that container id), and so is an
// event whose inspect failed for another reason (the host inspects again before it acts).
bool vetLabelClaim(EngineClient& engine, ImageLabelCache& images, plugin::RuntimeEvent& event);

}  // namespace zc::docker
