// Label trust, the whole path against the real engine and a real Caddy: an image built with
// LABEL zynd.deployment=<victim> and LABEL zynd.route-id=<other> runs (named otherwise) next to
// the real zynd-<victim>; the victim's lines and row stay its own, and its stop deletes only its
// own route. A container labelled zynd.deployment=<id> at `docker run` is still followed as <id>;
// two containers claiming one deployment: the named one keeps it, the other is ignored and
// reported in /healthz (the whole daemon). Every container and the image are removed at the end.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "caddy_fixture.h"
#include "deployment_manager.h"
#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;
using collector::DeploymentManager;

// A container from `image` named `name` (not zynd-<id>), removed (force) on destruction.
class OtherContainer {
 public:
  OtherContainer(const std::string& name, const std::string& image, const std::string& script,
                 const std::string& extra = "")
      : name_(name) {
    std::string out;
    ok_ = docker("run -d --name " + name + " " + extra + " " + image + " sh -c '" + script + "'",
                 &out) == 0;
    if (ok_) id_ = out.substr(0, out.find('\n'));
  }
  ~OtherContainer() { docker("rm -f " + name_); }
  OtherContainer(const OtherContainer&) = delete;
  OtherContainer& operator=(const OtherContainer&) = delete;
  bool ok() const { return ok_; }
  const std::string& id() const { return id_; }

 private:
  std::string name_, id_;
  bool ok_ = false;
};

std::string containerIdOf(const std::string& name) {
  std::string out;
  docker("inspect -f '{{.Id}}' " + name, &out);
  return out.substr(0, out.find('\n'));
}

class LabelTrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_DOCKER_OR_SKIP();
    ASSERT_TRUE(registry_.scanDirectory(ZC_PLUGIN_DIR).isOk());
    ASSERT_TRUE(registry_.openAll().isOk());
    plugin::PluginContext ctx;
    ctx.logger = &logger_;
    ctx.clock = &systemClock();
    auto storage = registry_.create<plugin::Storage>("memory", ctx);
    ASSERT_TRUE(storage.isOk());
    storage_ = std::move(storage).value();
    ASSERT_TRUE(storage_->open().isOk());
    ctx.options["socket"] = dockerSocketPath();
    auto runtime = registry_.create<plugin::Runtime>("docker", ctx);
    ASSERT_TRUE(runtime.isOk()) << runtime.status().toString();
    runtime_ = std::move(runtime).value();
  }
  void TearDown() override {
    if (manager_) manager_->stop();
  }
  void startManager(plugin::Router* router) {
    manager_ = std::make_unique<DeploymentManager>(*storage_, runtime_.get(), router, bus_,
                                                   systemClock(), collector::LifecycleOptions{});
    ASSERT_TRUE(manager_->start().isOk());
    ASSERT_TRUE(waitFor([&] { return manager_->runtimeConnected(); }, 20s));
  }
  std::vector<std::string> texts(const std::string& id) {
    std::vector<std::string> out;
    auto page = storage_->readLogs(id, 0, 5000);
    if (page.isOk()) {
      for (auto& l : page->lines) out.push_back(l.text);
    }
    return out;
  }
  bool hasLine(const std::string& id, const std::string& text) {
    for (const auto& t : texts(id)) {
      if (t == text) return true;
    }
    return false;
  }

  NullLogger logger_;
  host::PluginRegistry registry_;
  host::PluginPtr<plugin::Storage> storage_;
  host::PluginPtr<plugin::Runtime> runtime_;
  host::LiveBus bus_;
  std::unique_ptr<DeploymentManager> manager_;
};

TEST_F(LabelTrustTest, AnImageCannotClaimAnotherDeploymentNorPickItsRoute) {
  if (!std::filesystem::exists("/usr/bin/caddy")) {
    if (std::getenv("ZC_REQUIRE_CADDY")) FAIL() << "caddy required";
    GTEST_SKIP() << "no caddy";
  }
  std::string victim = uniqueId("victim");
  std::string other = uniqueId("other");
  LabelledImage image({{"zynd.deployment", victim}, {"zynd.route-id", other}});
  ASSERT_TRUE(image.ok()) << image.error();
  Caddy caddy({victim, other});
  ASSERT_TRUE(waitFor([&] { return caddy.routeExists(victim) && caddy.routeExists(other); }, 20s));
  plugin::PluginContext ctx;
  ctx.logger = &logger_;
  ctx.clock = &systemClock();
  ctx.options["admin_url"] = "http://127.0.0.1:" + std::to_string(caddy.admin());
  auto router = registry_.create<plugin::Router>("caddy", ctx);
  ASSERT_TRUE(router.isOk()) << router.status().toString();

  const std::string loop = "while true; do echo injected; sleep 0.2; done";
  TestContainer real(victim, "echo victim-hello; while true; do sleep 0.1; done");
  ASSERT_TRUE(real.ok());
  // One intruder found by the first reconcile (list path), one started later (event path).
  OtherContainer early(uniqueId("zc-intruder"), image.tag(), loop);
  ASSERT_TRUE(early.ok());
  startManager(router.value().get());
  OtherContainer late(uniqueId("zc-intruder"), image.tag(), loop);
  ASSERT_TRUE(late.ok());

  ASSERT_TRUE(waitFor([&] { return hasLine(victim, "victim-hello"); }, 20s));
  std::this_thread::sleep_for(3s);  // the intruders print every 200 ms meanwhile
  EXPECT_FALSE(hasLine(victim, "injected")) << ::testing::PrintToString(texts(victim));
  Deployment row = manager_->get(victim).value();
  EXPECT_EQ(row.containerId, containerIdOf(real.name()));
  EXPECT_EQ(row.status, DeploymentStatus::kRunning);
  for (const Deployment& d : manager_->list()) {
    EXPECT_NE(d.containerId, early.id()) << d.id;
    EXPECT_NE(d.containerId, late.id()) << d.id;
  }
  EXPECT_TRUE(manager_->claimConflicts(10).empty());  // the image's label is no claim at all

  // The stop deletes the victim's own route only, whatever the intruders' labels name.
  ASSERT_TRUE(manager_->requestStop(victim).isOk());
  ASSERT_TRUE(waitFor([&] { return manager_->teardownComplete(victim); }, 30s))
      << ::testing::PrintToString(texts(victim));
  EXPECT_FALSE(caddy.routeExists(victim)) << ::testing::PrintToString(texts(victim));
  EXPECT_TRUE(caddy.routeExists(other));
  std::string state;
  docker("inspect -f '{{.State.Running}}' " + late.id(), &state);
  EXPECT_EQ(state.substr(0, 4), "true");  // the intruder's container was not the one removed
}

TEST_F(LabelTrustTest, ARunLabelIsStillFollowedAsItsDeployment) {
  std::string id = uniqueId("byrun");
  startManager(nullptr);
  OtherContainer c(uniqueId("zc-run"), testImage(), "echo from-run-label; sleep 60",
                   "--label zynd.deployment=" + id);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(waitFor([&] { return hasLine(id, "from-run-label"); }, 20s));
  EXPECT_EQ(manager_->get(id).value().containerId, c.id());
}

// The whole daemon: claimants of one deployment besides zynd-<id>, one there before the
// collector starts (the first reconcile), one started after (events); /healthz names both.
TEST(LabelTrustDaemonTest, TheNamedClaimantWinsAndTheOthersAreReported) {
  ZC_REQUIRE_DOCKER_OR_SKIP();
  TempDir data;
  std::string id = uniqueId("claimed");
  const std::string loop = "while true; do echo from-other; sleep 0.2; done";
  // Older than the named container, and listed by the label query first: still loses.
  OtherContainer early(uniqueId("zc-second"), testImage(), loop, "--label zynd.deployment=" + id);
  ASSERT_TRUE(early.ok());
  TestContainer named(id, "echo from-named; while true; do sleep 0.1; done");
  ASSERT_TRUE(named.ok());
  Collector collector(data.path());
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  OtherContainer late(uniqueId("zc-third"), testImage(), loop, "--label zynd.deployment=" + id);
  ASSERT_TRUE(late.ok());
  std::string body;
  ASSERT_TRUE(waitFor([&] {
    body.clear();
    return httpGet(collector.port(), "/healthz", &body) == 200 &&
           body.find(early.id()) != std::string::npos && body.find(late.id()) != std::string::npos;
  }, 20s)) << body;
  EXPECT_NE(body.find("\"deploymentId\":\"" + id + "\""), std::string::npos) << body;
  EXPECT_NE(body.find("held by the container named zynd-" + id), std::string::npos) << body;
  std::string api;
  ASSERT_EQ(httpGet(collector.port(), "/api/deployments/" + id, &api), 200);
  EXPECT_NE(api.find(containerIdOf(named.name())), std::string::npos) << api;
  std::this_thread::sleep_for(2s);  // the others print every 200 ms meanwhile
  ASSERT_EQ(collector.stop(), 0);
  // One warning line per ignored container, not one per event or reconcile.
  std::string err = collector.process().err();
  size_t warnings = 0;
  for (size_t at = err.find("claims deployment " + id); at != std::string::npos;
       at = err.find("claims deployment " + id, at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 2u) << err;
  bool fromNamed = false;
  for (const LogLine& l : readStoredLines(data.path(), id)) {
    EXPECT_NE(l.text, "from-other");
    fromNamed |= l.text == "from-named";
  }
  EXPECT_TRUE(fromNamed);
}

}  // namespace
}  // namespace zc::testing
