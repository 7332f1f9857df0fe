// RetentionTtls (zc/plugin/retention_ttls.h): defaults, set(), clamping.
#include "zc/plugin/retention_ttls.h"

#include <gtest/gtest.h>

namespace zc::plugin {
namespace {

TEST(RetentionTtlsTest, StartsAtThePolicyDefaults) {
  RetentionTtls ttls;
  RetentionPolicy defaults;
  EXPECT_EQ(ttls.logsTtl(), defaults.logsTtl);
  EXPECT_EQ(ttls.systemTtl(), defaults.systemTtl);
  EXPECT_EQ(ttls.metricsTtl(), defaults.metricsTtl);
}

TEST(RetentionTtlsTest, SetReplacesEveryTtl) {
  RetentionTtls ttls;
  RetentionPolicy p;
  p.logsTtl = 1;
  p.systemTtl = 0;
  p.metricsTtl = 3 * kNanosPerSecond;
  ttls.set(p);
  EXPECT_EQ(ttls.logsTtl(), 1);
  EXPECT_EQ(ttls.systemTtl(), 0);
  EXPECT_EQ(ttls.metricsTtl(), 3 * kNanosPerSecond);
  RetentionPolicy back = ttls.policy();
  EXPECT_EQ(back.logsTtl, 1);
  EXPECT_EQ(back.systemTtl, 0);
  EXPECT_EQ(back.metricsTtl, 3 * kNanosPerSecond);
}

TEST(RetentionTtlsTest, NegativeTtlIsStoredAsZero) {
  RetentionTtls ttls;
  RetentionPolicy p;
  p.logsTtl = -1;
  p.systemTtl = -5 * kNanosPerSecond;
  p.metricsTtl = 7;
  ttls.set(p);
  EXPECT_EQ(ttls.logsTtl(), 0);
  EXPECT_EQ(ttls.systemTtl(), 0);
  EXPECT_EQ(ttls.metricsTtl(), 7);
}

}  // namespace
}  // namespace zc::plugin
