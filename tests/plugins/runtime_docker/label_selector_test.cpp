// --select-label: parsing the option and the engine filters built from it.
#include <gtest/gtest.h>

#include "docker_runtime.h"
#include "event_subscriber.h"
#include "label_selector.h"

namespace zc::docker {
namespace {

TEST(LabelSelectorTest, ACommaListOfKeyValuePairsIsParsed) {
  auto none = parseSelectLabels("");
  ASSERT_TRUE(none.isOk());
  EXPECT_TRUE(none->empty());
  auto two = parseSelectLabels("fleet.shard=a,com.example/team=ops team");
  ASSERT_TRUE(two.isOk()) << two.status().toString();
  EXPECT_EQ(*two, (std::vector<std::string>{"fleet.shard=a", "com.example/team=ops team"}));
  auto emptyValue = parseSelectLabels("k=");
  ASSERT_TRUE(emptyValue.isOk());
}

TEST(LabelSelectorTest, MalformedEntriesAreRefusedByName) {
  for (const char* bad : {"novalue", "=v", "a=b,", ",a=b", "sp ace=v", "k=v\x01", "k\"=v"}) {
    auto r = parseSelectLabels(bad);
    ASSERT_FALSE(r.isOk()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("select_labels: '", 0), 0u) << r.status().message();
  }
  EXPECT_FALSE(parseSelectLabels(std::string(129, 'k') + "=v").isOk());
  EXPECT_FALSE(parseSelectLabels("k=" + std::string(257, 'v')).isOk());
}

TEST(LabelSelectorTest, FiltersJsonAddsOneLabelArrayAndEscapesValues) {
  EXPECT_EQ(filtersJson(R"("name":["^/?zynd-"])", {}), R"({"name":["^/?zynd-"]})");
  EXPECT_EQ(filtersJson("", {"zynd.deployment", "a=b"}), R"({"label":["zynd.deployment","a=b"]})");
  EXPECT_EQ(filtersJson(R"("type":["container"])", {R"(k=say "hi" \o/)"}),
            R"({"type":["container"],"label":["k=say \"hi\" \\o/"]})");
}

TEST(LabelSelectorTest, TheEventFilterCarriesTheSelection) {
  std::string q = eventFiltersQuery({"fleet.shard=a"});
  // "label":["fleet.shard=a"] URL-encoded.
  EXPECT_NE(q.find("%22label%22%3A%5B%22fleet.shard%3Da%22%5D"), std::string::npos) << q;
  EXPECT_EQ(eventFiltersQuery({}).find("label"), std::string::npos);
}

TEST(LabelSelectorTest, TheRuntimeOptionIsCheckedAtConfigure) {
  auto ok = parseRuntimeOptions({{"select_labels", "fleet.shard=a,zynd.kind=agent"}});
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->events.selectLabels.size(), 2u);
  auto bad = parseRuntimeOptions({{"select_labels", "oops"}});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message().rfind("select_labels:", 0), 0u);
}

}  // namespace
}  // namespace zc::docker
