// /healthz and /readyz as probes read them (exporters/src/health_route.*): /healthz answers 503
// while storage fails or the runtime has been away past host::kRuntimeDegradedAfter, with the
// same JSON body; /readyz answers 200 only once storage is open and the first discovery is done.
#include <gtest/gtest.h>

#include "exporter_fixture.h"
#include "health_route.h"

namespace {

using zc::testing::ExporterStack;
using zc::testing::httpRequest;

zc::host::CollectorHealth healthy() {
  zc::host::CollectorHealth h;
  h.storagePlugin = "rocksdb";
  h.runtimePlugin = "docker";
  h.runtimeConfigured = true;
  h.runtimeConnected = true;
  h.storageOpen = true;
  h.discoveryDone = true;
  return h;
}

TEST(HealthProbeTest, TheStatusCodeFollowsStorageAndARuntimeAwayTooLong) {
  zc::host::CollectorHealth h = healthy();
  EXPECT_EQ(zc::exporters::healthHttpStatus(h), 200);
  h.storageOk = false;
  EXPECT_EQ(zc::exporters::healthHttpStatus(h), 503);
  h = healthy();
  // Away, but not for long (an engine restart): the body says degraded, the probe passes.
  h.runtimeConnected = false;
  EXPECT_EQ(zc::exporters::healthHttpStatus(h), 200);
  EXPECT_NE(zc::exporters::healthJson(h, "0.1.0").find(R"("status":"degraded")"),
            std::string::npos);
  h.runtimeAwayTooLong = true;
  EXPECT_EQ(zc::exporters::healthHttpStatus(h), 503);
}

TEST(HealthProbeTest, ReadyOnlyWithStorageOpenAndTheFirstDiscoveryDone) {
  zc::host::CollectorHealth h = healthy();
  EXPECT_EQ(zc::exporters::readyHttpStatus(h), 200);
  EXPECT_EQ(zc::exporters::readyJson(h), R"({"checks":{"discovery":true,"storage":true},"ready":true})");
  h.discoveryDone = false;
  EXPECT_EQ(zc::exporters::readyHttpStatus(h), 503);
  EXPECT_EQ(zc::exporters::readyJson(h),
            R"({"checks":{"discovery":false,"storage":true},"ready":false})");
  h = healthy();
  h.storageOpen = false;
  EXPECT_EQ(zc::exporters::readyHttpStatus(h), 503);
  // Readiness is not health: a failing disk after the start keeps it ready.
  h = healthy();
  h.storageOk = false;
  EXPECT_EQ(zc::exporters::readyHttpStatus(h), 200);
}

TEST(HealthProbeTest, OverHttpBothAnswerJsonWithTheirCode) {
  ExporterStack stack;
  zc::host::CollectorHealth h = healthy();
  h.discoveryDone = false;
  stack.api->setHealth(h);
  auto r = httpRequest(stack.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"checks":{"discovery":false,"storage":true},"ready":false})");
  EXPECT_EQ(httpRequest(stack.port(), "GET", "/healthz").status, 200);

  h.discoveryDone = true;
  h.storageOk = false;
  h.storageDetail = "IO error: No space left on device";
  stack.api->setHealth(h);
  r = httpRequest(stack.port(), "GET", "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  r = httpRequest(stack.port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_NE(r.body.find(R"("status":"degraded")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("No space left on device"), std::string::npos) << r.body;
}

}  // namespace
