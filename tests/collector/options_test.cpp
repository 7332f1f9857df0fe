// Configuration: defaults, layering (flags > environment > file), and one-line refusals.
#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>
#include <Poco/Util/MapConfiguration.h>
#include <gtest/gtest.h>

#include "options.h"
#include "test_support.h"

namespace zc::collector {
namespace {

using Poco::AutoPtr;
using Poco::Util::LayeredConfiguration;
using Poco::Util::MapConfiguration;

class OptionsTest : public ::testing::Test {
 protected:
  OptionsTest() : layered_(new LayeredConfiguration), flags_(new MapConfiguration),
                  env_(new MapConfiguration), file_(new MapConfiguration) {
    layered_->add(flags_, -100, true);
    layered_->add(env_, -50, false);
    layered_->add(file_, 0, false);
  }
  Result<CollectorConfig> load() { return loadCollectorConfig(*layered_, ZC_BIN_DIR, "/srv"); }

  AutoPtr<LayeredConfiguration> layered_;
  AutoPtr<MapConfiguration> flags_, env_, file_;
};

TEST_F(OptionsTest, DefaultsMatchTheDocumentedOnes) {
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->listenHost, "127.0.0.1");
  EXPECT_EQ(c->listenPort, 7070);
  EXPECT_EQ(c->dataDir, "/srv/data");
  EXPECT_EQ(c->storage, "rocksdb");
  EXPECT_EQ(c->retention.logsTtl, 7 * 86400 * kNanosPerSecond);
  EXPECT_EQ(c->retention.systemTtl, 30 * 86400 * kNanosPerSecond);
  EXPECT_EQ(c->retention.metricsTtl, 3 * 86400 * kNanosPerSecond);
  EXPECT_EQ(c->retentionIntervalNs, 3600 * kNanosPerSecond);
  EXPECT_EQ(c->metricsIntervalNs, 30 * kNanosPerSecond);
  EXPECT_EQ(c->metricsParallelism, 256u);
  EXPECT_EQ(c->sseThreads, 1u);
  EXPECT_EQ(c->sessionTtlNs, 12 * 3600 * kNanosPerSecond);
  ASSERT_FALSE(c->pluginDirs.empty());  // the build tree's plugins/ next to bin/
  EXPECT_EQ(c->pluginDirs[0], ZC_PLUGIN_DIR);
}

TEST_F(OptionsTest, FlagsWinOverEnvironmentWhichWinsOverFile) {
  file_->setString("listen", "127.0.0.1:1000");
  file_->setString("data-dir", "/from/file");
  file_->setString("retention-logs", "1d");
  env_->setString("listen", "127.0.0.1:2000");
  env_->setString("data-dir", "/from/env");
  flags_->setString("listen", "127.0.0.1:3000");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->listenPort, 3000);
  EXPECT_EQ(c->dataDir, "/from/env");
  EXPECT_EQ(c->retention.logsTtl, 86400 * kNanosPerSecond);
}

TEST_F(OptionsTest, EnvironmentNamesIncludeTheDeployersOnes) {
  auto env = optionsFromEnvironment({{"ZC_DATA_DIR", "/d"},
                                     {"ZC_RETENTION_INTERVAL", "90s"},
                                     {"DEPLOYER_METRIC_RETENTION_DAYS", "5"},
                                     {"UNRELATED", "x"}});
  ASSERT_TRUE(env.isOk()) << env.status().toString();
  const auto& m = *env;
  EXPECT_EQ(m.at("data-dir"), "/d");
  EXPECT_EQ(m.at("retention-interval"), "90s");
  EXPECT_EQ(m.at("retention-metrics"), "5d");
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(envNameFor("retention-logs"), "ZC_RETENTION_LOGS");
}

TEST_F(OptionsTest, PluginOptionsComeFromEveryLayerAndShortFormsFillOnlyWhatIsNotGiven) {
  auto opt = parsePluginOpt("storage.rocksdb.block_cache_mb=64");
  ASSERT_TRUE(opt.isOk()) << opt.status().toString();
  EXPECT_EQ(opt->first, "plugin-opt.storage.rocksdb.block_cache_mb");
  EXPECT_EQ(opt->second, "64");
  flags_->setString(opt->first, opt->second);
  file_->setString("plugin-opt.router.caddy.timeout", "2s");
  auto env = optionsFromEnvironment(
      {{"ZC_PLUGIN_OPT", "runtime.docker.stall_timeout=3s;\n runtime.docker.socket=/env.sock"}});
  ASSERT_TRUE(env.isOk()) << env.status().toString();
  for (const auto& [k, v] : *env) env_->setString(k, v);
  flags_->setString("docker-socket", "/flag.sock");  // short form: the explicit key wins
  flags_->setString("caddy-admin", "http://127.0.0.1:9");
  flags_->setString("sync-writes", "yes");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  using Options = std::map<std::string, std::string>;
  EXPECT_EQ(c->pluginOptions.at("storage.rocksdb"),
            (Options{{"block_cache_mb", "64"}, {"sync_writes", "true"}}));
  EXPECT_EQ(c->pluginOptions.at("router.caddy"),
            (Options{{"timeout", "2s"}, {"admin_url", "http://127.0.0.1:9"}}));
  EXPECT_EQ(c->pluginOptions.at("runtime.docker"),
            (Options{{"stall_timeout", "3s"}, {"socket", "/env.sock"}}));
}

TEST_F(OptionsTest, RuntimeSocketIsTheSocketOfTheRuntimeInUse) {
  flags_->setString("runtime", "podman");
  flags_->setString("runtime-socket", "/run/user/1000/podman/podman.sock");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->pluginOptions.at("runtime.podman").at("socket"),
            "/run/user/1000/podman/podman.sock");
  EXPECT_EQ(c->pluginOptions.count("runtime.docker"), 0u);
}

TEST_F(OptionsTest, RuntimeSocketAndDockerSocketThatDisagreeAreOneLine) {
  flags_->setString("runtime-socket", "/a.sock");
  flags_->setString("docker-socket", "/b.sock");
  auto c = load();
  ASSERT_FALSE(c.isOk());
  EXPECT_EQ(c.status().message(),
            "--runtime-socket and --docker-socket name different sockets; give one of them");
  flags_->setString("docker-socket", "/a.sock");  // the same socket twice is fine
  auto same = load();
  ASSERT_TRUE(same.isOk()) << same.status().toString();
  EXPECT_EQ(same->pluginOptions.at("runtime.docker").at("socket"), "/a.sock");
}

TEST_F(OptionsTest, MalformedPluginOptionsAreOneLine) {
  EXPECT_EQ(parsePluginOpt("storage.rocksdb").status().message(),
            "--plugin-opt: 'storage.rocksdb' is not KIND.NAME.KEY=VALUE");
  EXPECT_EQ(parsePluginOpt("a.b.c.d=1").status().message(),
            "--plugin-opt: 'a.b.c.d=1' is not KIND.NAME.KEY=VALUE");
  EXPECT_EQ(parsePluginOpt("proxy.pg.url=x").status().message(),
            "--plugin-opt: 'proxy.pg.url=x' names no plugin kind (runtime, storage, router or sink)");
  EXPECT_EQ(parsePluginOpt("storage.Rocks.x=1").status().message(),
            "--plugin-opt: 'storage.Rocks.x=1' has a NAME or KEY that is not [a-z0-9_]");
  EXPECT_EQ(optionsFromEnvironment({{"ZC_PLUGIN_OPT", "storage.rocksdb.x"}}).status().message(),
            "ZC_PLUGIN_OPT: 'storage.rocksdb.x' is not KIND.NAME.KEY=VALUE");
  file_->setString("plugin-opt.storage", "x");
  EXPECT_EQ(load().status().message(), "--plugin-opt: 'storage' is not KIND.NAME.KEY=VALUE");
}

TEST_F(OptionsTest, SseThreadsComeFromTheEnvironmentToo) {
  env_->setString("sse-threads", "3");
  auto c = load();
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->sseThreads, 3u);
}

TEST_F(OptionsTest, TtlZeroMeansForever) {
  flags_->setString("retention-system", "0");
  auto c = load();
  ASSERT_TRUE(c.isOk());
  EXPECT_EQ(c->retention.systemTtl, 0);
}

struct BadCase {
  const char* key;
  const char* value;
  const char* mustMention;
};

void PrintTo(const BadCase& b, std::ostream* os) { *os << "--" << b.key << '=' << b.value; }

class BadOptionTest : public OptionsTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadOptionTest, IsRefusedWithOneLineNamingTheOption) {
  flags_->setString(GetParam().key, GetParam().value);
  auto c = load();
  ASSERT_FALSE(c.isOk());
  const std::string msg = c.status().message();
  SCOPED_TRACE(msg);
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_NE(msg.find(std::string("--") + GetParam().key), std::string::npos);
  EXPECT_NE(msg.find(GetParam().mustMention), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadOptionTest,
    ::testing::Values(BadCase{"listen", "nonsense", "nonsense"},
                      BadCase{"listen", "127.0.0.1:99999", "99999"},
                      BadCase{"retention-logs", "abc", "abc"},
                      BadCase{"retention-logs", "-1d", "-1d"},
                      BadCase{"retention-metrics", "5x", "5x"},
                      BadCase{"retention-interval", "0", "'0'"},
                      BadCase{"max-line-bytes", "12", "12"},
                      BadCase{"max-line-bytes", "lots", "lots"},
                      BadCase{"metrics-parallelism", "0", "0"},
                      BadCase{"session-ttl", "0", "'0'"},
                      BadCase{"session-ttl", "12x", "12x"},
                      BadCase{"metrics-parallelism", "9999", "9999"},
                      BadCase{"sync-writes", "maybe", "maybe"},
                      BadCase{"log-level", "loud", "loud"},
                      BadCase{"plugin-dir", "/does/not/exist", "/does/not/exist"},
                      BadCase{"data-dir", "", "empty"},
                      BadCase{"tls-cert", "/etc/tls.pem", "--tls-key"},
                      BadCase{"tls-key", "/etc/tls.key", "--tls-cert"},
                      BadCase{"tls-client-ca", "/etc/ca.pem", "--tls-cert"},
                      BadCase{"max-connections-per-peer", "lots", "lots"},
                      BadCase{"sse-threads", "0", "0"},
                      BadCase{"sse-threads", "17", "17"}));

}  // namespace
}  // namespace zc::collector
