// The fleet's options: --host-id, --advertise-url, --select-label, --sink, --postgres-url.
#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "options.h"

namespace zc::collector {
namespace {

using Poco::AutoPtr;
using Poco::Util::LayeredConfiguration;
using Poco::Util::MapConfiguration;

class FleetOptionsTest : public ::testing::Test {
 protected:
  FleetOptionsTest() : layered_(new LayeredConfiguration), flags_(new MapConfiguration) {
    layered_->add(flags_, -100, true);
  }
  Result<CollectorConfig> load() { return loadCollectorConfig(*layered_, ZC_BIN_DIR, "/srv"); }

  AutoPtr<LayeredConfiguration> layered_;
  AutoPtr<MapConfiguration> flags_;
};

TEST_F(FleetOptionsTest, TheHostIdDefaultsToTheHostnameAndThereIsNoSink) {
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  EXPECT_EQ(c->hostId.substr(0, 5), std::string(name).substr(0, 5));
  EXPECT_EQ(c->advertiseUrl, "");
  EXPECT_EQ(c->sink, "none");
}

TEST_F(FleetOptionsTest, GoodValuesAreKept) {
  flags_->setString("host-id", "eu-west.host_7");
  flags_->setString("advertise-url", "https://host7.example:7070/");
  flags_->setString("sink", "postgres");
  flags_->setString("postgres-url", "postgresql://c@db/zynd");
  flags_->setString("select-label", "fleet.shard=a,zynd.kind=agent");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->hostId, "eu-west.host_7");
  EXPECT_EQ(c->advertiseUrl, "https://host7.example:7070/");
  EXPECT_EQ(c->sink, "postgres");
  EXPECT_EQ(c->pluginOptions["sink.postgres"]["url"], "postgresql://c@db/zynd");
  EXPECT_EQ(c->pluginOptions["runtime.docker"]["select_labels"], "fleet.shard=a,zynd.kind=agent");
}

TEST_F(FleetOptionsTest, SelectLabelGoesToTheRuntimeInUse) {
  flags_->setString("runtime", "podman");
  flags_->setString("select-label", "fleet.shard=b");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->pluginOptions["runtime.podman"]["select_labels"], "fleet.shard=b");
  EXPECT_EQ(c->pluginOptions.count("runtime.docker"), 0u);
}

TEST_F(FleetOptionsTest, PostgresUrlIsTheCentralStoragesWithStoragePostgres) {
  flags_->setString("runtime", "none");
  flags_->setString("storage", "postgres");
  flags_->setString("postgres-url", "postgresql://central@db/zynd");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->storage, "postgres");
  EXPECT_EQ(c->runtime, "none");
  EXPECT_EQ(c->pluginOptions["storage.postgres"]["url"], "postgresql://central@db/zynd");
  EXPECT_EQ(c->pluginOptions.count("sink.postgres"), 0u);
}

TEST_F(FleetOptionsTest, BadValuesNameTheOption) {
  for (const char* bad : {"has space", "", "slash/y", "x\xC3\xA9"}) {
    flags_->setString("host-id", bad);
    auto c = load();
    if (std::string(bad).empty()) continue;  // empty means the hostname
    ASSERT_FALSE(c.isOk()) << bad;
    EXPECT_EQ(c.status().message().rfind("--host-id: ", 0), 0u) << c.status().message();
  }
  flags_->setString("host-id", std::string(65, 'h'));
  EXPECT_FALSE(load().isOk());
  flags_->remove("host-id");
  for (const char* bad : {"ftp://x", "http://", "host:7070", "http://a b"}) {
    flags_->setString("advertise-url", bad);
    auto c = load();
    ASSERT_FALSE(c.isOk()) << bad;
    EXPECT_EQ(c.status().message().rfind("--advertise-url: ", 0), 0u) << c.status().message();
  }
}

TEST_F(FleetOptionsTest, SinkPluginOptionsAreAccepted) {
  auto parsed = parsePluginOpt("sink.postgres.password_file=/etc/pw");
  ASSERT_TRUE(parsed.isOk()) << parsed.status().toString();
  EXPECT_EQ(parsed->first, "plugin-opt.sink.postgres.password_file");
  EXPECT_FALSE(parsePluginOpt("sinks.postgres.url=x").isOk());
}

}  // namespace
}  // namespace zc::collector
