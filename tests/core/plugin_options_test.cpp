// OptionValues::parse: the one parser of plugin options. Every refusal is InvalidArgument whose
// message starts with the key, so the host can name the full option in its one-line error.
#include "zc/plugin/options.h"

#include <gtest/gtest.h>

#include "zc/model.h"

namespace zc::plugin {
namespace {

std::vector<OptionSpec> specs() {
  return {
      {"dir", OptionType::kString, "", "a folder", 0, 0, /*required=*/true},
      {"sync", OptionType::kBool, "false", "fsync"},
      {"cache_mb", OptionType::kInt, "8", "cache", 1, 1024},
      {"timeout", OptionType::kDuration, "5s", "timeout"},
      {"socket", OptionType::kPath, "/run/x.sock", "socket"},
      {"password", OptionType::kString, "", "secret", 0, 0, false, /*secret=*/true},
      {"limit", OptionType::kInt, "", "optional, no default", 0, 10},
  };
}

TEST(PluginOptionsTest, DefaultsFillEveryDeclaredKey) {
  auto v = OptionValues::parse(specs(), {{"dir", "/data"}});
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_EQ(v->string("dir"), "/data");
  EXPECT_TRUE(v->given("dir"));
  EXPECT_FALSE(v->boolean("sync"));
  EXPECT_FALSE(v->given("sync"));
  EXPECT_EQ(v->integer("cache_mb"), 8);
  EXPECT_EQ(v->durationNs("timeout"), 5 * kNanosPerSecond);
  EXPECT_EQ(v->string("socket"), "/run/x.sock");
  EXPECT_EQ(v->integer("limit"), 0);
}

TEST(PluginOptionsTest, GivenValuesAreParsedByType) {
  auto v = OptionValues::parse(specs(), {{"dir", "d"},
                                         {"sync", "YES"},
                                         {"cache_mb", "1024"},
                                         {"timeout", "250ms"},
                                         {"socket", "/tmp/s"},
                                         {"limit", "0"}});
  ASSERT_TRUE(v.isOk()) << v.status().toString();
  EXPECT_TRUE(v->boolean("sync"));
  EXPECT_EQ(v->integer("cache_mb"), 1024);
  EXPECT_EQ(v->durationNs("timeout"), 250'000'000);
  EXPECT_EQ(v->string("socket"), "/tmp/s");
  EXPECT_TRUE(v->given("limit"));
}

TEST(PluginOptionsTest, EachRefusalIsOneLineStartingWithTheKey) {
  struct Case {
    std::map<std::string, std::string> given;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{{"dir", "d"}, {"colour", "blue"}},
       "colour: unknown key (known: cache_mb, dir, limit, password, socket, sync, timeout)"},
      {{}, "dir: required"},
      {{{"dir", ""}}, "dir: required"},
      {{{"dir", "d"}, {"sync", "maybe"}}, "sync: 'maybe' is not true or false"},
      {{{"dir", "d"}, {"sync", ""}}, "sync: '' is not true or false"},
      {{{"dir", "d"}, {"cache_mb", "0"}}, "cache_mb: '0' is not a whole number from 1 to 1024"},
      {{{"dir", "d"}, {"cache_mb", "12x"}},
       "cache_mb: '12x' is not a whole number from 1 to 1024"},
      {{{"dir", "d"}, {"timeout", "soon"}},
       "timeout: 'soon' is not a duration (e.g. 250ms, 90s, 15m, 1h, 7d)"},
      {{{"dir", "d"}, {"socket", "relative"}}, "socket: 'relative' is not an absolute path"},
      {{{"dir", "d"}, {"limit", "\x01\n"}},
       "limit: '\\x01\\x0a' is not a whole number from 0 to 10"},
  };
  for (const auto& c : cases) {
    auto v = OptionValues::parse(specs(), c.given);
    ASSERT_FALSE(v.isOk()) << c.message;
    EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(v.status().message(), c.message);
  }
}

TEST(PluginOptionsTest, SecretValuesAreNeverQuoted) {
  std::vector<OptionSpec> s = {{"token", OptionType::kInt, "", "", 0, 9, false, true}};
  auto v = OptionValues::parse(s, {{"token", "hunter2"}});
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().message(), "token: the value is not a whole number from 0 to 9");
}

TEST(PluginOptionsTest, NoSpecsRefuseEveryKey) {
  EXPECT_TRUE(OptionValues::parse({}, {}).isOk());
  auto v = OptionValues::parse({}, {{"data_dir", "/x"}});
  ASSERT_FALSE(v.isOk());
  EXPECT_EQ(v.status().message(), "data_dir: unknown key (known: none)");
}

}  // namespace
}  // namespace zc::plugin
