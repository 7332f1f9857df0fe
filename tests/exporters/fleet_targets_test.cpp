// GET /api/prometheus/targets: the http_sd target of an advertise URL and the JSON of a fleet
// (pure functions; the route with a real Prometheus is in tests/integration/fleet_central_test).
#include <gtest/gtest.h>

#include "fleet_targets_route.h"

namespace zc::exporters {
namespace {

TEST(FleetTargetsTest, AnAdvertiseUrlBecomesAddressSchemeAndMetricsPath) {
  auto t = scrapeTargetOf("http://10.0.0.5:7070");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->address, "10.0.0.5:7070");
  EXPECT_EQ(t->scheme, "http");
  EXPECT_EQ(t->metricsPath, "/metrics");
  t = scrapeTargetOf("https://collector.example/zynd/");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->address, "collector.example:443");  // the scheme's default port
  EXPECT_EQ(t->scheme, "https");
  EXPECT_EQ(t->metricsPath, "/zynd/metrics");
  t = scrapeTargetOf("http://[::1]:7070/");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->address, "[::1]:7070");
}

TEST(FleetTargetsTest, UnusableUrlsAreLeftOut) {
  EXPECT_FALSE(scrapeTargetOf("").has_value());
  EXPECT_FALSE(scrapeTargetOf("ftp://h:21").has_value());
  EXPECT_FALSE(scrapeTargetOf("http://").has_value());
  EXPECT_FALSE(scrapeTargetOf("not a url at all").has_value());
  EXPECT_EQ(fleetTargetsJson({{"h1", "ftp://x", 0}}), "[]");
}

TEST(FleetTargetsTest, OneTargetGroupPerHostLabelledWithItsHost) {
  std::string json = fleetTargetsJson({{"h1", "http://127.0.0.1:7001", 0},
                                       {"h2", "https://10.0.0.2:7443/c", 0}});
  EXPECT_EQ(json,
            "[{\"targets\":[\"127.0.0.1:7001\"],\"labels\":{\"__metrics_path__\":\"/metrics\","
            "\"__scheme__\":\"http\",\"host\":\"h1\"}},{\"targets\":[\"10.0.0.2:7443\"],"
            "\"labels\":{\"__metrics_path__\":\"/c/metrics\",\"__scheme__\":\"https\","
            "\"host\":\"h2\"}}]");
}

}  // namespace
}  // namespace zc::exporters
