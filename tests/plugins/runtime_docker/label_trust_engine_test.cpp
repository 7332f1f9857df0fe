// Label trust against the real engine (plugins/runtime_docker/label_trust.h): an image built with
// LABEL zynd.deployment=<victim> and zynd.route-id=<other> claims nothing. Its containers are not
// deployments unless named zynd-<id> or labelled at `docker run`, on the list, inspect and event
// paths; the image is warned about once. The image (zc-labelled-*) and every container are
// removed at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine_test_support.h"
#include "test_support.h"

namespace zc::docker::testing {
namespace {

using namespace std::chrono_literals;
using plugin::ContainerInfo;
using plugin::RuntimeEventType;

// The full id of the container named `name`, from inspect (the id TestContainer takes from the
// `docker run` output can be a warning line the CLI printed after it).
std::string idOf(const std::string& name) {
  std::string out;
  docker("inspect -f '{{.Id}}' " + name, &out);
  return out.substr(0, out.find('\n'));
}

class LabelTrustEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_DOCKER_OR_SKIP();
    victim_ = "victim" + randomSuffix();
    image_ = std::make_unique<zc::testing::LabelledImage>(
        std::vector<std::pair<std::string, std::string>>{{"zynd.deployment", victim_},
                                                         {"zynd.route-id", "other-route"},
                                                         {"zynd.kind", "forged"}});
    ASSERT_TRUE(image_->ok()) << image_->error();
    runtime_ = loadRuntime();
    ASSERT_TRUE(runtime_);
    ASSERT_TRUE(runtime_->connect().isOk());
  }

  std::string victim_;
  std::unique_ptr<zc::testing::LabelledImage> image_;
  host::PluginPtr<plugin::Runtime> runtime_;
};

TEST_F(LabelTrustEngineTest, ContainerInspectMergesTheImageLabels) {
  // The premise: the engine copies the image's labels into the container.
  TestContainer c("", "sleep 60", "zc-intruder-" + randomSuffix(), image_->tag());
  ASSERT_TRUE(c.ok());
  std::string out;
  ASSERT_EQ(docker("inspect -f '{{index .Config.Labels \"zynd.deployment\"}}' " + c.name(), &out), 0);
  EXPECT_EQ(out.substr(0, out.find('\n')), victim_);
}

TEST_F(LabelTrustEngineTest, AnImageLabelClaimsNothingOnTheListAndInspectPaths) {
  const std::string warning = "zynd.deployment=" + victim_;
  size_t warnsBefore = logger().count(plugin::LogLevel::kWarn, warning);
  TestContainer victim("", "sleep 60", "zynd-" + victim_);
  TestContainer intruder("", "sleep 60", "zc-intruder-" + randomSuffix(), image_->tag());
  TestContainer second("", "sleep 60", "zc-intruder-" + randomSuffix(), image_->tag());
  ASSERT_TRUE(victim.ok() && intruder.ok() && second.ok());

  const std::string victimId = idOf(victim.name()), intruderId = idOf(intruder.name()),
                    secondId = idOf(second.name());
  auto list = runtime_->listDeployments();
  ASSERT_TRUE(list.isOk()) << list.status().toString();
  int victims = 0;
  for (const ContainerInfo& ci : list.value()) {
    EXPECT_NE(ci.containerId, intruderId);
    EXPECT_NE(ci.containerId, secondId);
    if (ci.deploymentId == victim_) {
      ++victims;
      EXPECT_EQ(ci.containerId, victimId);
    }
  }
  EXPECT_EQ(victims, 1);
  EXPECT_TRUE(runtime_->inspect(intruderId).status().isNotFound());
  ASSERT_TRUE(runtime_->listDeployments().isOk());  // a second reconcile: no second warning
  // One warning for the image, not one per container or per listing.
  EXPECT_EQ(logger().count(plugin::LogLevel::kWarn, warning) - warnsBefore, 1u);
}

TEST_F(LabelTrustEngineTest, TheNameAndRunLabelsStillDecide) {
  // From the same image: named zynd-<id>, its identity is the name; labelled at `docker run`, the
  // label counts (its value differs from the image's); the image's zynd.kind never counts.
  std::string named = "named" + randomSuffix();
  std::string byRun = "byrun" + randomSuffix();
  TestContainer a("--label zynd.kind=agent", "sleep 60", "zynd-" + named, image_->tag());
  TestContainer b("--label zynd.deployment=" + byRun, "sleep 60", "zc-run-" + randomSuffix(),
                  image_->tag());
  ASSERT_TRUE(a.ok() && b.ok());
  auto ia = runtime_->inspect(idOf(a.name()));
  ASSERT_TRUE(ia.isOk()) << ia.status().toString();
  EXPECT_EQ(ia->deploymentId, named);
  EXPECT_EQ(ia->entityType, "agent");  // set at run: kept
  auto ib = runtime_->inspect(idOf(b.name()));
  ASSERT_TRUE(ib.isOk()) << ib.status().toString();
  EXPECT_EQ(ib->deploymentId, byRun);
  EXPECT_EQ(ib->entityType, "");  // only the image's zynd.kind=forged: ignored
}

TEST_F(LabelTrustEngineTest, EventsOfAnImageLabelledContainerNameNoDeployment) {
  RecordingEvents events;
  auto sub = runtime_->subscribeEvents(&events);
  ASSERT_TRUE(sub.isOk()) << sub.status().toString();
  ASSERT_TRUE(events.waitFor([](const auto& e) { return e.type == RuntimeEventType::kConnected; }, 10s));
  std::string byRun = "evrun" + randomSuffix();
  std::string intruderId;
  {
    TestContainer intruder("", "exit 0", "zc-intruder-" + randomSuffix(), image_->tag());
    ASSERT_TRUE(intruder.ok());
    intruderId = idOf(intruder.name());
    TestContainer b("--label zynd.deployment=" + byRun, "exit 0", "zc-run-" + randomSuffix(),
                    image_->tag());
    ASSERT_TRUE(b.ok());
    // The deployer-labelled container's events arrive, under its own id.
    ASSERT_TRUE(events.waitFor([&](const auto& e) {
      return e.deploymentId == byRun && e.type == RuntimeEventType::kDie;
    }, 20s));
    ASSERT_TRUE(intruder.waitExited(20s));
  }
  // Both containers are removed; their destroy events are after every other event of them.
  ASSERT_TRUE(events.waitFor([&](const auto& e) {
    return e.deploymentId == byRun && e.type == RuntimeEventType::kDestroy;
  }, 20s));
  std::this_thread::sleep_for(500ms);
  for (const auto& e : events.events()) {
    if (e.containerId != intruderId) continue;
    // Only the destroy passes unverified (the host keys it by container id); nothing else.
    EXPECT_EQ(e.type, RuntimeEventType::kDestroy) << "event of the intruder under " << e.deploymentId;
  }
  sub.value()->stop();
}

}  // namespace
}  // namespace zc::docker::testing
