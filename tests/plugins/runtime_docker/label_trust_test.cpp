// Label trust as pure functions (plugins/runtime_docker/label_trust.h, docker_json.h): the zynd.*
// labels an image carries never decide a container's deployment, row or route.
#include "label_trust.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "docker_json.h"

namespace zc::docker {
namespace {

Poco::JSON::Object::Ptr parseObj(const std::string& s) {
  Poco::JSON::Parser p;
  return p.parse(s).extract<Poco::JSON::Object::Ptr>();
}

TEST(LabelTrustTest, ZyndLabelsTheImageCarriesWithTheSameValueAreDropped) {
  Labels container{{"zynd.deployment", "victim"}, {"zynd.kind", "agent"},
                   {"zynd.name", "mine"},         {"com.example", "x"}};
  Labels image{{"zynd.deployment", "victim"}, {"zynd.kind", "tool"}, {"com.example", "x"}};
  Labels kept = deployerLabels(container, image);
  // Same key and value as the image: baked in, dropped. Another value: set at `docker run`.
  EXPECT_EQ(kept.count("zynd.deployment"), 0u);
  EXPECT_EQ(kept.at("zynd.kind"), "agent");
  EXPECT_EQ(kept.at("zynd.name"), "mine");
  EXPECT_EQ(kept.at("com.example"), "x");  // not ours: left alone
  EXPECT_EQ(deployerLabels(container, {}), container);
}

TEST(LabelTrustTest, OnlyTheZyndPrefixCounts) {
  EXPECT_TRUE(isZyndLabel("zynd.deployment"));
  EXPECT_TRUE(isZyndLabel("zynd."));
  EXPECT_FALSE(isZyndLabel("zynd"));
  EXPECT_FALSE(isZyndLabel("xzynd.deployment"));
  EXPECT_EQ(zyndLabels({{"zynd.a", "1"}, {"other", "2"}}), (Labels{{"zynd.a", "1"}}));
}

TEST(LabelTrustTest, DescribedLabelsArePrintableAndShort) {
  EXPECT_EQ(describeLabels({{"zynd.a", "1"}, {"zynd.b", "x\ny"}}), "zynd.a=1, zynd.b=x?y");
  std::string longValue(100, 'v');
  EXPECT_EQ(describeLabels({{"zynd.a", longValue}}), "zynd.a=" + std::string(64, 'v') + "...");
}

TEST(LabelTrustTest, InspectIgnoresTheImagesDeploymentAndMetadata) {
  auto obj = parseObj(R"({"Id": "c1", "Name": "/intruder", "Image": "sha256:abc",
    "State": {"Running": true}, "HostConfig": {},
    "Config": {"Labels": {"zynd.deployment": "victim", "zynd.route-id": "other",
                          "zynd.kind": "forged"}}})");
  EXPECT_EQ(inspectImageId(obj), "sha256:abc");
  EXPECT_TRUE(inspectRunning(obj));
  Labels image{{"zynd.deployment", "victim"}, {"zynd.route-id", "other"}, {"zynd.kind", "forged"}};
  auto r = parseInspect(obj, image);
  ASSERT_TRUE(r.isOk());
  EXPECT_FALSE(r.value().has_value());  // no deployment of its own
  // Without the image's labels known it would have claimed the victim: the premise of the check.
  auto unchecked = parseInspect(obj, {});
  ASSERT_TRUE(unchecked.isOk() && unchecked.value());
  EXPECT_EQ(unchecked.value()->deploymentId, "victim");
}

TEST(LabelTrustTest, InspectOfANamedContainerFromALabelledImageIsItsName) {
  auto obj = parseObj(R"({"Id": "c2", "Name": "/zynd-mine", "Image": "sha256:abc",
    "State": {}, "HostConfig": {},
    "Config": {"Labels": {"zynd.deployment": "victim", "zynd.kind": "agent"}}})");
  auto r = parseInspect(obj, {{"zynd.deployment", "victim"}, {"zynd.kind", "tool"}});
  ASSERT_TRUE(r.isOk() && r.value());
  EXPECT_EQ(r.value()->deploymentId, "mine");
  EXPECT_EQ(r.value()->entityType, "agent");  // a value the image does not carry: set at run
}

TEST(LabelTrustTest, AnEventIdThatOnlyALabelGivesIsALabelClaim) {
  bool claim = true;
  auto named = parseEvent(R"({"Type":"container","Action":"start",
    "Actor":{"ID":"ab","Attributes":{"name":"zynd-d1"}}})", &claim);
  ASSERT_TRUE(named);
  EXPECT_FALSE(claim);
  auto agreeing = parseEvent(R"({"Type":"container","Action":"start",
    "Actor":{"ID":"ab","Attributes":{"name":"zynd-d1","zynd.deployment":"d1"}}})", &claim);
  ASSERT_TRUE(agreeing);
  EXPECT_FALSE(claim);  // the name gives the same id
  auto labelled = parseEvent(R"({"Type":"container","Action":"start",
    "Actor":{"ID":"ab","Attributes":{"name":"intruder","zynd.deployment":"victim"}}})", &claim);
  ASSERT_TRUE(labelled);
  EXPECT_TRUE(claim);
  EXPECT_EQ(labelled->deploymentId, "victim");
  auto otherThanName = parseEvent(R"({"Type":"container","Action":"start",
    "Actor":{"ID":"ab","Attributes":{"name":"zynd-mine","zynd.deployment":"victim"}}})", &claim);
  ASSERT_TRUE(otherThanName);
  EXPECT_TRUE(claim);
}

}  // namespace
}  // namespace zc::docker
