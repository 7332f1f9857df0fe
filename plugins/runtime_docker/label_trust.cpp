#include "label_trust.h"

#include <Poco/JSON/Object.h>

#include "docker_json.h"

namespace zc::docker {
namespace {

constexpr std::string_view kZyndPrefix = "zynd.";
constexpr size_t kShownBytes = 64;

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kShownBytes)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > kShownBytes) out += "...";
  return out;
}

// Image ids go into a URL path: "sha256:" and hex only.
bool isSafeImageId(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool isZyndLabel(std::string_view key) noexcept {
  return key.substr(0, kZyndPrefix.size()) == kZyndPrefix;
}

Labels zyndLabels(const Labels& labels) {
  Labels out;
  for (const auto& [k, v] : labels) {
    if (isZyndLabel(k)) out.emplace(k, v);
  }
  return out;
}

Labels deployerLabels(const Labels& containerLabels, const Labels& imageLabels) {
  Labels out;
  for (const auto& [k, v] : containerLabels) {
    if (isZyndLabel(k)) {
      auto it = imageLabels.find(k);
      if (it != imageLabels.end() && it->second == v) continue;  // baked into the image
    }
    out.emplace(k, v);
  }
  return out;
}

std::string describeLabels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out += ", ";
    out += printable(k) + "=" + printable(v);
  }
  return out;
}

ImageLabelCache::ImageLabelCache(std::shared_ptr<EngineClient> engine, plugin::Logger* logger,
                                 size_t capacity)
    : engine_(std::move(engine)), logger_(logger), capacity_(capacity == 0 ? 1 : capacity) {}

Result<Labels> ImageLabelCache::zyndLabelsOf(const std::string& imageId, bool* unknownImage) {
  *unknownImage = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = byImage_.find(imageId); it != byImage_.end()) return it->second;
  }
  if (!isSafeImageId(imageId)) {
    *unknownImage = true;  // an id we cannot ask about: trust none of its labels
    return Labels();
  }
  auto image = engine_->getObject("/images/" + imageId + "/json");
  if (!image.isOk()) {
    if (!image.status().isNotFound()) return image.status().withContext("image " + imageId);
    *unknownImage = true;
    return Labels();
  }
  Labels labels;
  if (Poco::JSON::Object::Ptr config = image.value()->getObject("Config")) {
    if (Poco::JSON::Object::Ptr l = config->getObject("Labels")) {
      for (const auto& [k, v] : *l) {
        if (v.isString() && isZyndLabel(k)) labels.emplace(k, v.extract<std::string>());
      }
    }
  }
  std::lock_guard lock(mu_);
  auto [it, added] = byImage_.emplace(imageId, labels);
  if (!added) return it->second;  // another thread cached it meanwhile (and warned)
  order_.push_back(imageId);
  while (order_.size() > capacity_) {
    byImage_.erase(order_.front());
    order_.pop_front();
  }
  if (!labels.empty() && logger_ != nullptr) {
    logger_->log(plugin::LogLevel::kWarn,
                 "docker: image " + imageId.substr(0, 19) + " carries " + describeLabels(labels) +
                     "; ignored in its containers (only the name zynd-<id> and labels set at "
                     "container creation count)");
  }
  return labels;
}

Result<plugin::ContainerInfo> inspectDeployment(EngineClient& engine, ImageLabelCache& images,
                                                std::string_view containerId) {
  ZC_ASSIGN_OR_RETURN(Poco::JSON::Object::Ptr obj,
                      engine.getObject("/containers/" + std::string(containerId) + "/json"));
  bool unknownImage = false;
  ZC_ASSIGN_OR_RETURN(Labels image, images.zyndLabelsOf(inspectImageId(obj), &unknownImage));
  // An image we cannot read: every zynd.* label could be its own (fail closed).
  if (unknownImage) image = zyndLabels(inspectLabels(obj));
  ZC_ASSIGN_OR_RETURN(std::optional<plugin::ContainerInfo> info, parseInspect(obj, image));
  if (!info) {
    return Status::notFound("container " + std::string(containerId) +
                            " is not a deployment container");
  }
  return std::move(*info);
}

bool vetLabelClaim(EngineClient& engine, ImageLabelCache& images, plugin::RuntimeEvent& event) {
  if (event.type == plugin::RuntimeEventType::kDestroy) return true;
  if (event.containerId.empty() || event.containerId.size() > 128) return false;
  for (char c : event.containerId) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;  // engine container ids are hex; nothing else goes into a path
  }
  auto info = inspectDeployment(engine, images, event.containerId);
  if (info.isOk()) {
    event.deploymentId = info->deploymentId;
    return true;
  }
  return !info.status().isNotFound();
}

size_t ImageLabelCache::size() const {
  std::lock_guard lock(mu_);
  return byImage_.size();
}

}  // namespace zc::docker
