// The smallest router plugin, shared by the loader's test plugins. Each test plugin is one .cpp
// that builds a descriptor with at most one defect and exports it with ZC_TEST_EXPORT_ENTRY.
//
// TinyRouter::removeRoute answers OK, or Unavailable with the option "answer" when it is set (so
// that a test can see its context arrive). Everything here has internal linkage: each module
// gets its own copy and exports nothing but its entry point.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zc/plugin/abi.h"
#include "zc/plugin/plugin.h"
#include "zc/plugin/router.h"

namespace {

class TinyRouter final : public zc::plugin::Router {
 public:
  std::vector<zc::plugin::OptionSpec> optionSpecs() const noexcept override {
    return {{"answer", zc::plugin::OptionType::kString, "", "what removeRoute answers"}};
  }
  zc::Status configure(const zc::plugin::PluginContext& context) noexcept override {
    auto values = zc::plugin::OptionValues::parse(optionSpecs(), context.options);
    if (!values.isOk()) return values.status();
    answer_ = values->string("answer");
    return zc::Status::ok();
  }
  zc::Status removeRoute(std::string_view) noexcept override {
    return answer_.empty() ? zc::Status::ok() : zc::Status::unavailable(answer_);
  }

 private:
  std::string answer_;
};

[[maybe_unused]] zc::plugin::Plugin* createTinyRouter(std::string*) {
  return new TinyRouter();
}

[[maybe_unused]] void destroyTinyRouter(zc::plugin::Plugin* plugin) {
  delete plugin;
}

}  // namespace

#define ZC_TEST_EXPORT_ENTRY(descriptor)                                      \
  extern "C" __attribute__((visibility("default"))) const ZcPluginDescriptor* \
  zc_plugin_entry_v2() {                                                      \
    return &(descriptor);                                                     \
  }
