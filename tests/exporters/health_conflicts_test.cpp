// /healthz lists the containers ignored because another container holds the deployment they
// claim (exporters/src/health_route.cpp); the key is absent when there are none.
#include <gtest/gtest.h>

#include "health_route.h"

namespace {

TEST(HealthzConflictsTest, EachIgnoredClaimantIsListedWithItsReason) {
  zc::host::CollectorHealth h;
  h.storagePlugin = "memory";
  h.runtimePlugin = "docker";
  EXPECT_EQ(zc::exporters::healthJson(h, "0.1.0").find("conflicts"), std::string::npos);
  h.claimConflicts.push_back({"c0ffee", "second\"one", "dep-1",
                              "deployment dep-1 is held by the container named zynd-dep-1 (abc)"});
  std::string body = zc::exporters::healthJson(h, "0.1.0");
  const std::string expected =
      R"j({"conflicts":[{"containerId":"c0ffee","containerName":"second\"one",)j"
      R"j("deploymentId":"dep-1","reason":"deployment dep-1 is held by the )j"
      R"j(container named zynd-dep-1 (abc)"}],"deployments":0,)j";
  EXPECT_EQ(body.rfind(expected, 0), 0u) << body;
  // A conflict is not a failure of the collector.
  EXPECT_NE(body.find(R"("status":"ok")"), std::string::npos) << body;
}

}  // namespace
