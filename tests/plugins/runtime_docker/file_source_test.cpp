#include "file_source.h"

#include <gtest/gtest.h>

#include <Poco/JSON/Parser.h>

#include <sys/stat.h>

#include <fstream>

#include "docker_runtime.h"
#include "test_support.h"

namespace zc::docker {
namespace {

Poco::JSON::Object::Ptr json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

TEST(FileSourceTest, ParsesTheOption) {
  EXPECT_EQ(parseLogSource("auto").value(), LogSource::kAuto);
  EXPECT_EQ(parseLogSource("api").value(), LogSource::kApi);
  EXPECT_EQ(parseLogSource("file").value(), LogSource::kFile);
  auto bad = parseLogSource("File");
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message().rfind("log_source: ", 0), 0u) << bad.status().message();
}

TEST(FileSourceTest, RuntimeOptionsTakeLogSourceAndRefuseABadOne) {
  auto def = parseRuntimeOptions({});
  ASSERT_TRUE(def.isOk());
  EXPECT_EQ(def->logSource, LogSource::kAuto);
  EXPECT_EQ(def->fileHub.workers, 4u);
  auto file = parseRuntimeOptions({{"log_source", "file"}, {"file_workers", "2"},
                                   {"file_poll_interval", "250ms"}});
  ASSERT_TRUE(file.isOk()) << file.status().toString();
  EXPECT_EQ(file->logSource, LogSource::kFile);
  EXPECT_EQ(file->fileHub.workers, 2u);
  EXPECT_EQ(file->fileHub.pollInterval, std::chrono::milliseconds(250));
  auto bad = parseRuntimeOptions({{"log_source", "disk"}});
  ASSERT_FALSE(bad.isOk());
  EXPECT_EQ(bad.status().message().rfind("log_source:", 0), 0u) << bad.status().message();
  EXPECT_FALSE(parseRuntimeOptions({{"file_workers", "0"}}).isOk());
  bool declared = false;
  for (const auto& spec : runtimeOptionSpecs()) declared = declared || spec.key == "log_source";
  EXPECT_TRUE(declared);
}

TEST(FileSourceTest, UsableOnlyForAReadableJsonFile) {
  zc::testing::TempDir dir;
  std::string path = dir.path() + "/x-json.log";
  std::ofstream(path) << "";
  auto ok = usableLogFile(json(R"({"LogPath":")" + path +
                               R"(","HostConfig":{"LogConfig":{"Type":"json-file"}}})"));
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok.value(), path);
  auto journald = usableLogFile(
      json(R"({"LogPath":"","HostConfig":{"LogConfig":{"Type":"journald"}}})"));
  ASSERT_FALSE(journald.isOk());
  EXPECT_NE(journald.status().message().find("journald"), std::string::npos);
  // Not created yet (a container starting) in a folder it can read: usable, waited for.
  auto starting = usableLogFile(json(R"({"LogPath":")" + dir.path() +
                                     R"(/none.log","HostConfig":{"LogConfig":{"Type":"json-file"}}})"));
  ASSERT_TRUE(starting.isOk()) << starting.status().toString();
  EXPECT_EQ(starting.value(), dir.path() + "/none.log");
  auto missing = usableLogFile(json(R"({"LogPath":")" + dir.path() +
                                    R"(/no-dir/none.log","HostConfig":{"LogConfig":{"Type":"json-file"}}})"));
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("cannot read"), std::string::npos);
  EXPECT_FALSE(usableLogFile(json(R"({"LogPath":"relative","HostConfig":{"LogConfig":{"Type":"json-file"}}})")).isOk());
  EXPECT_FALSE(usableLogFile(json(R"({"HostConfig":{}})")).isOk());
  EXPECT_FALSE(usableLogFile(nullptr).isOk());
}

TEST(FileSourceTest, ACreatedContainerGetsTheEnginesLayout) {
  zc::testing::TempDir root;
  const std::string id(64, 'a');
  const std::string created = R"({"Id":")" + id +
                              R"(","LogPath":"","HostConfig":{"LogConfig":{"Type":"json-file"}}})";
  EXPECT_FALSE(usableLogFile(json(created), root.path()).isOk());  // no such folder
  ASSERT_EQ(::mkdir((root.path() + "/containers").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((root.path() + "/containers/" + id).c_str(), 0700), 0);
  auto p = usableLogFile(json(created), root.path());
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  EXPECT_EQ(p.value(), root.path() + "/containers/" + id + "/" + id + "-json.log");
  EXPECT_FALSE(usableLogFile(json(created), "").isOk());  // root unknown
  EXPECT_FALSE(usableLogFile(json(R"({"Id":"../x","LogPath":"","HostConfig":{"LogConfig":{"Type":"json-file"}}})"),
                             root.path()).isOk());
}

}  // namespace
}  // namespace zc::docker
