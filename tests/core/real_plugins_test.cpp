// The real plugins built into ZC_PLUGIN_DIR: each zc_*.so there passes every loader check and
// carries a descriptor that matches its file name. router caddy must be among them.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "test_support.h"
#include "zc/clock.h"
#include "zc/host/plugin_loader.h"
#include "zc/plugin/router.h"

namespace zc::testing {
namespace {

TEST(RealPluginsTest, EveryBuiltPluginLoadsWithAMatchingDescriptor) {
  host::PluginRegistry registry;
  ASSERT_TRUE(registry.scanDirectory(ZC_PLUGIN_DIR).isOk());
  ASSERT_TRUE(registry.openAll().isOk());
  for (const auto& r : registry.refused()) ADD_FAILURE() << r.path << ": " << r.reason;
  ASSERT_FALSE(registry.plugins().empty());
  for (const auto& p : registry.plugins()) {
    const ZcPluginDescriptor* d = p.descriptor;
    SCOPED_TRACE(p.path);
    EXPECT_EQ(p.path, std::string(ZC_PLUGIN_DIR) + "/zc_" + std::string(host::kindName(d->kind)) +
                          "_" + d->name + ".so");
    EXPECT_EQ(d->abiVersion, ZC_PLUGIN_ABI_VERSION);
    EXPECT_EQ(d->structSize, sizeof(ZcPluginDescriptor));
    EXPECT_STREQ(d->headersHash, ZC_PLUGIN_HEADERS_HASH);
    EXPECT_STREQ(d->toolchain, ZC_TOOLCHAIN_ID);
    EXPECT_GT(std::strlen(d->version), 0u);
  }
}

TEST(RealPluginsTest, RouterCaddyIsThereAndCreates) {
  host::PluginRegistry registry;
  ASSERT_TRUE(registry.scanDirectory(ZC_PLUGIN_DIR).isOk());
  ASSERT_TRUE(registry.openAll().isOk());
  const host::PluginLibrary* caddy = registry.find(ZC_PLUGIN_KIND_ROUTER, "caddy");
  ASSERT_NE(caddy, nullptr);
  EXPECT_EQ(caddy->version(), "0.1.0");
  EXPECT_EQ(caddy->path, std::string(ZC_PLUGIN_DIR) + "/zc_router_caddy.so");

  NullLogger logger;
  ManualClock clock(kNanosPerSecond);
  plugin::PluginContext ctx;
  ctx.logger = &logger;
  ctx.clock = &clock;
  auto router = registry.create<plugin::Router>("caddy", ctx);  // defaults; no network yet
  ASSERT_TRUE(router.isOk()) << router.status().toString();
  EXPECT_EQ((*router)->removeRoute("../config").code(), Status::Code::kInvalidArgument);
}

TEST(RealPluginsTest, RouterCaddyExportsOnlyItsEntryPoint) {
  const std::string path = std::string(ZC_PLUGIN_DIR) + "/zc_router_caddy.so";
  std::string out;
  if (runCommand("command -v nm >/dev/null", &out) != 0) GTEST_SKIP() << "nm (binutils) missing";
  ASSERT_EQ(runCommand("nm -D --defined-only '" + path + "'", &out), 0) << out;
  // "0000000000004510 T zc_plugin_entry_v2\n" and nothing else.
  EXPECT_EQ(out.substr(out.find(' ') + 1), "T zc_plugin_entry_v2\n") << out;
}

}  // namespace
}  // namespace zc::testing
