// The collector as operators watch it, through the whole daemon and the real Docker engine:
// with --log-format json every line it writes from start-up through a flood of container lines
// and a crash to its stop (SIGTERM) is one JSON object with an RFC 3339 UTC time; and /metrics
// describes the process itself, the HTTP requests by route, the data folder's filesystem and
// each deployment's name, slug, kind and host (zynd_deployment_info).
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "docker_fixture.h"

namespace zc::testing {
namespace {

using namespace std::chrono_literals;

class ObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_DOCKER_OR_SKIP(); }
  std::string dataDir() const { return dir_.path() + "/data"; }
  TempDir dir_;
};

// Every line of `text` is one JSON object with time, level, logger, message and fields; returns
// how many lines there were.
int expectEveryLineJson(const std::string& text, std::set<std::string>* messages) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z)");
  static const std::set<std::string> kLevels = {"trace", "debug",    "info", "warning",
                                                "error", "critical"};
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    Poco::JSON::Object::Ptr o;
    try {
      o = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not one JSON object: " << line;
      continue;
    }
    for (const char* key : {"time", "level", "logger", "message"}) {
      EXPECT_TRUE(o->has(key)) << key << " missing in " << line;
    }
    EXPECT_TRUE(o->isObject("fields")) << line;
    EXPECT_TRUE(std::regex_match(o->optValue<std::string>("time", ""), kTime)) << line;
    EXPECT_TRUE(kLevels.count(o->optValue<std::string>("level", ""))) << line;
    if (messages) messages->insert(o->optValue<std::string>("message", ""));
  }
  return n;
}

bool hasMessageStartingWith(const std::set<std::string>& messages, const std::string& prefix) {
  for (const auto& m : messages) {
    if (m.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

TEST_F(ObservabilityTest, JsonLogsFromStartThroughAFloodToStopAndSelfMetrics) {
  // Only this test's container: the engine may be running other tests' containers too.
  std::string id = uniqueId("obsjson");
  const std::string select = "zynd.obstest=" + id;
  Collector collector(dataDir(),
                      {"--log-format", "json", "--log-level", "debug", "--select-label", select});
  ASSERT_TRUE(collector.waitConnected(20s)) << collector.process().err();
  // 20,000 lines with quotes, backslashes and tabs on both streams, then a crash.
  TestContainer c(id,
                  "i=0; while [ $i -lt 10000 ]; do printf 'out \"%s\" \\\\ \\t x\\n' $i; "
                  "echo \"err $i\" >&2; i=$((i+1)); done; exit 3",
                  "--label zynd.name=Observed --label zynd.slug=observed --label " + select);
  ASSERT_TRUE(c.ok());
  // Requests during the flood: counted by route, not by path.
  for (int i = 0; i < 5; ++i) {
    httpGet(collector.port(), "/api/deployments/" + id);
    httpGet(collector.port(), "/api/deployments/" + id + "/logs?since=0&limit=10");
  }
  ASSERT_TRUE(c.waitExited(120s));
  ASSERT_TRUE(collector.waitDrained(120s)) << collector.process().err();
  ASSERT_TRUE(waitFor(
      [&] {
        std::string d;
        return httpGet(collector.port(), "/api/deployments/" + id, &d) == 200 &&
               d.find("\"crashed\"") != std::string::npos;
      },
      30s));

  std::string m;
  ASSERT_EQ(httpGet(collector.port(), "/metrics", &m), 200);
  EXPECT_NE(m.find("zynd_deployment_info{deployment=\"" + id + "\",host=\""), std::string::npos)
      << m;
  EXPECT_NE(m.find("kind=\"agent\",name=\"Observed\",slug=\"observed\"} 1"), std::string::npos)
      << m;
  EXPECT_NE(m.find("zynd_collector_http_requests_total{code=\"200\",method=\"GET\","
                   "route=\"/api/deployments/{id}/logs\"} 5"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find(id + "/logs"), std::string::npos) << "a raw path became a label";
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ",
                           "process_open_fds ", "process_max_fds ", "process_threads ",
                           "process_start_time_seconds ", "zynd_collector_data_dir_free_bytes ",
                           "zynd_collector_data_dir_size_bytes ", "zynd_collector_build_info{"}) {
    EXPECT_NE(m.find("\n" + std::string(name)), std::string::npos) << name;
  }

  ASSERT_EQ(collector.stop(), 0);
  std::set<std::string> messages;
  int lines = expectEveryLineJson(collector.process().err(), &messages);
  lines += expectEveryLineJson(collector.process().out(), &messages);
  EXPECT_TRUE(hasMessageStartingWith(messages, "listening on ")) << collector.process().err();
  EXPECT_TRUE(hasMessageStartingWith(messages, "deployment " + id + ": "))
      << collector.process().err();
  EXPECT_TRUE(messages.count("stopping")) << collector.process().err();
  EXPECT_TRUE(hasMessageStartingWith(messages, "[storage] ")) << collector.process().err();
  EXPECT_GE(lines, 5);
}

}  // namespace
}  // namespace zc::testing
