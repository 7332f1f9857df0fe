// Loads, but create() fails: the plugin's constructor throws (ZC_DEFINE_PLUGIN turns that into a
// null object and the exception's message).
#include <stdexcept>

#include "tiny_router.h"
#include "zc/plugin/export.h"

namespace {
class ThrowingRouter final : public zc::plugin::Router {
 public:
  ThrowingRouter() { throw std::runtime_error("tiny router refuses to start"); }
  zc::Status removeRoute(std::string_view) noexcept override { return zc::Status::ok(); }
};
}  // namespace

ZC_DEFINE_PLUGIN(ZC_PLUGIN_KIND_ROUTER, "create_throws", "0.1.0", ThrowingRouter)
