// `zynd-collector check-config`: a good configuration exits 0 with one line; a bad option, an
// unknown key of the file or a bad plugin option exits 78 with one line that names it; nothing
// is bound, opened or created. The packaged configuration (packaging/collector.properties) lists
// every option and passes.
#include <Poco/Util/MapConfiguration.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collector_process.h"
#include "options.h"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class CheckConfigTest : public ::testing::Test {
 protected:
  // Runs `zynd-collector check-config` with `args`; returns the exit code.
  int check(const std::vector<std::string>& args, std::string* out = nullptr,
            std::string* err = nullptr) {
    std::vector<std::string> all = {"check-config"};
    all.insert(all.end(), args.begin(), args.end());
    zc::testing::ChildProcess p(zc::testing::collectorArgv(all));
    int rc = p.wait(20s);
    if (out) *out = p.out();
    if (err) *err = p.err();
    return rc;
  }

  std::string writeFile(const std::string& name, const std::string& text) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // The lines of `text` starting with "zynd-collector: ".
  static std::vector<std::string> verdicts(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("zynd-collector: ", 0) == 0) lines.push_back(line);
    }
    return lines;
  }

  zc::testing::TempDir dir_;
};

TEST_F(CheckConfigTest, AGoodFileExitsZeroWithOneLineAndCreatesNothing) {
  std::string data = dir_.path() + "/data";
  std::string cfg = writeFile("good.properties",
                              "# a comment\n"
                              "data-dir = " + data + "\n"
                              "listen = 127.0.0.1:7999\n"
                              "retention-logs = 14d\n"
                              "runtime = none\n"
                              "plugin-opt.storage.rocksdb.block_cache_mb = 64\n");
  std::string out, err;
  ASSERT_EQ(check({"--config", cfg}, &out, &err), 0) << out << err;
  EXPECT_EQ(out, "zynd-collector: configuration OK (" + cfg + ")\n") << err;
  EXPECT_FALSE(fs::exists(data)) << "check-config created the data folder";
}

struct BadConfig {
  const char* name;
  std::string file;                // the configuration file's text ("" = no file)
  std::vector<std::string> flags;  // more arguments
  const char* mustMention;
};

void PrintTo(const BadConfig& b, std::ostream* os) { *os << b.name; }

class BadConfigTest : public CheckConfigTest, public ::testing::WithParamInterface<BadConfig> {};

TEST_P(BadConfigTest, ExitsSeventyEightWithOneLineNamingIt) {
  std::vector<std::string> args = GetParam().flags;
  if (!GetParam().file.empty()) {
    args.insert(args.begin(), {"--config", writeFile("bad.properties", GetParam().file)});
  }
  std::string out, err;
  EXPECT_EQ(check(args, &out, &err), 78) << out << err;
  auto lines = verdicts(err);
  ASSERT_EQ(lines.size(), 1u) << err;
  EXPECT_NE(lines[0].find(GetParam().mustMention), std::string::npos) << lines[0];
  EXPECT_EQ(verdicts(out).size(), 0u) << out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadConfigTest,
    ::testing::Values(
        BadConfig{"BadValueInTheFile", "runtime = none\nretention-logs = a week\n", {},
                  "--retention-logs"},
        BadConfig{"UnknownKeyInTheFile", "runtime = none\nretention-log = 7d\n", {},
                  "unknown option 'retention-log'"},
        BadConfig{"ConfigKeyInTheFile", "runtime = none\nconfig = /etc/other\n", {},
                  "unknown option 'config'"},
        BadConfig{"UnknownPluginKey", "runtime = none\nplugin-opt.storage.rocksdb.no_such = 1\n",
                  {}, "storage.rocksdb"},
        BadConfig{"BadPluginValue",
                  "runtime = none\nplugin-opt.storage.rocksdb.block_cache_mb = lots\n", {},
                  "block_cache_mb"},
        BadConfig{"UnknownStorage", "", {"--runtime", "none", "--storage", "nope"},
                  "no storage plugin named 'nope'"},
        BadConfig{"BadFlag", "", {"--runtime", "none", "--listen", "nowhere"}, "--listen"},
        BadConfig{"ExposedWithoutTokens", "", {"--runtime", "none", "--listen", "0.0.0.0:7070"},
                  "--listen"},
        BadConfig{"MissingFile", "", {"--config", "/does/not/exist.properties"}, "--config"},
        BadConfig{"UnknownExtension", "", {"--config", "/etc/hostname"}, "--config"}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return std::string(info.param.name); });

TEST_F(CheckConfigTest, AnExtraArgumentIsRefused) {
  std::string err;
  EXPECT_EQ(check({"--runtime", "none", "extra"}, nullptr, &err), 78);
  EXPECT_EQ(verdicts(err).size(), 1u) << err;
}

// The file the package installs as /etc/zynd-collector/collector.properties: every option of
// --help is there (commented, with its default), it sets the package's data folder, and it
// passes check-config as it is.
TEST_F(CheckConfigTest, ThePackagedConfigurationListsEveryOptionAndPasses) {
  const std::string path = std::string(ZC_SOURCE_DIR) + "/packaging/collector.properties";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  const std::string file = text.str();
  for (const auto& spec : zc::collector::optionSpecs()) {
    const std::string name = spec.name;
    if (name == "config") continue;    // not a key of a file
    if (name == "data-dir") continue;  // set, below
    const std::string key = name == "plugin-opt" ? "#plugin-opt." : "#" + name + " =";
    EXPECT_NE(file.find("\n" + key), std::string::npos)
        << name << " is missing from " << path << " (or is not commented out)";
  }
  EXPECT_NE(file.find("\ndata-dir = /var/lib/zynd-collector\n"), std::string::npos);
  std::string out, err;
  EXPECT_EQ(check({"--config", path}, &out, &err), 0) << out << err;
}

TEST(CheckConfigKeysTest, OptionNamesAndPluginOptionsPassAnythingElseIsNamed) {
  Poco::AutoPtr<Poco::Util::MapConfiguration> file(new Poco::Util::MapConfiguration);
  file->setString("data-dir", "/x");
  file->setString("plugin-opt.storage.rocksdb.sync_writes", "true");
  EXPECT_TRUE(zc::collector::checkConfigFileKeys(*file, "f.properties").isOk());
  file->setString("datadir", "/x");
  zc::Status st = zc::collector::checkConfigFileKeys(*file, "f.properties");
  EXPECT_EQ(st.code(), zc::Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("unknown option 'datadir'"), std::string::npos) << st.message();
}

TEST(ExecutableDirTest, IsTheRealFolderOfTheRunningBinary) {
  std::string dir = zc::collector::executableDir("fallback");
  EXPECT_NE(dir, "fallback");
  EXPECT_TRUE(fs::path(dir).is_absolute()) << dir;
  EXPECT_EQ(fs::canonical("/proc/self/exe").parent_path().string(), dir);
}

}  // namespace
