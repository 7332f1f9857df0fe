#include "docker_json.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include "docker_runtime.h"
#include "event_subscriber.h"

namespace zc::docker {
namespace {

Poco::JSON::Object::Ptr parseObj(const std::string& s) {
  Poco::JSON::Parser p;
  return p.parse(s).extract<Poco::JSON::Object::Ptr>();
}

TEST(DockerJsonTest, DeploymentIdFromLabelOrName) {
  EXPECT_EQ(deploymentIdFor("/zynd-abc_1", {}), "abc_1");
  EXPECT_EQ(deploymentIdFor("zynd-abc", {{"zynd.deployment", "lbl"}}), "lbl");
  EXPECT_EQ(deploymentIdFor("/other", {{"zynd.deployment", "lbl"}}), "lbl");
  // The label wins: an invalid label hides a valid name.
  EXPECT_EQ(deploymentIdFor("/zynd-ok", {{"zynd.deployment", "bad id"}}), std::nullopt);
  EXPECT_EQ(deploymentIdFor("/zynd-", {}), std::nullopt);
  EXPECT_EQ(deploymentIdFor("/zynd-a.b", {}), std::nullopt);
  EXPECT_EQ(deploymentIdFor("/nginx", {{"zynd.kind", "agent"}}), std::nullopt);
  EXPECT_EQ(deploymentIdFor("/zynd-" + std::string(65, 'x'), {}), std::nullopt);
}

TEST(DockerJsonTest, RefusedDeploymentIdNamesWhatWasRefused) {
  EXPECT_EQ(refusedDeploymentId("/zynd-a.b", {}), "a.b");
  EXPECT_EQ(refusedDeploymentId("zynd-", {}), "");
  EXPECT_EQ(refusedDeploymentId("/zynd-ok", {{"zynd.deployment", "bad id"}}), "bad id");
  EXPECT_EQ(refusedDeploymentId("/zynd-ok", {}), std::nullopt);  // a deployment
  EXPECT_EQ(refusedDeploymentId("/nginx", {}), std::nullopt);    // claims nothing
  EXPECT_EQ(refusedDeploymentId("/zynd-a.b", {{"zynd.deployment", "ab"}}), std::nullopt);
}

TEST(DockerJsonTest, HostPortOfTheDeployerPortFirstThenLowestNumerically) {
  // 5000/tcp wins over lower and (as text) earlier ports; within it the lowest host port.
  EXPECT_EQ(chooseHostPort(parseObj(R"({
    "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "13001"}],
    "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "13002"}],
    "5000/udp": [{"HostIp": "127.0.0.1", "HostPort": "13003"}],
    "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "13500"}, {"HostIp": "::", "HostPort": "13400"}]
  })")), 13400);
  // Without 5000/tcp: the numerically lowest container port (9000 < 10000, unlike as text).
  EXPECT_EQ(chooseHostPort(parseObj(R"({
    "10000/tcp": [{"HostPort": "13001"}], "9000/tcp": [{"HostPort": "13900"}]
  })")), 13900);
  // Exposed but unpublished ports (null, empty, unparsable) are passed over.
  EXPECT_EQ(chooseHostPort(parseObj(R"({
    "5000/tcp": null, "80/tcp": [], "81/tcp": [{"HostPort": ""}, {"HostPort": "x1"}],
    "8080/tcp": [{"HostPort": "13080"}]
  })")), 13080);
  EXPECT_EQ(chooseHostPort(parseObj(R"({"5000/tcp": null})")), std::nullopt);
  EXPECT_EQ(chooseHostPort(nullptr), std::nullopt);
}

TEST(DockerJsonTest, InspectTakesTheHostPortOfTheDeployerPort) {
  auto obj = parseObj(R"({"Id": "1", "Name": "/zynd-p", "State": {}, "Config": {"Labels": {}},
    "HostConfig": {}, "NetworkSettings": {"Ports": {
      "10000/tcp": [{"HostPort": "13001"}], "5000/tcp": [{"HostPort": "13500"}]}}})");
  auto c = parseInspect(obj, {});
  ASSERT_TRUE(c.isOk() && c.value());
  EXPECT_EQ((*c.value()).hostPort, 13500);
}

TEST(DockerJsonTest, InspectMapsEveryField) {
  auto obj = parseObj(R"({
    "Id": "0123abcd", "Name": "/zynd-dep1", "Created": "2026-11-28T00:00:01.5Z", "RestartCount": 2,
    "State": {"Running": false, "Restarting": false, "OOMKilled": true, "ExitCode": 137,
              "StartedAt": "2026-11-28T00:00:02Z", "FinishedAt": "2026-11-28T00:00:03Z"},
    "Config": {"Tty": true, "Labels": {"zynd.kind": "agent", "zynd.name": "Bot", "zynd.slug": "bot",
      "zynd.public-url": "https://x", "zynd.registry-url": "https://r", "zynd.entity-id": "e1",
      "zynd.public-key": "pk", "zynd.route-id": "route1"}},
    "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}, "Memory": 1610612736,
      "PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "13005"}]}},
    "NetworkSettings": {"Ports": {}}
  })");
  auto r = parseInspect(obj, {});
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  ASSERT_TRUE(r.value().has_value());
  const auto& c = *r.value();
  EXPECT_EQ(c.deploymentId, "dep1");
  EXPECT_EQ(c.containerId, "0123abcd");
  EXPECT_EQ(c.name, "zynd-dep1");
  EXPECT_TRUE(c.tty);
  EXPECT_FALSE(c.running);
  EXPECT_TRUE(c.oomKilled);
  EXPECT_EQ(c.exitCode, 137);
  EXPECT_EQ(c.restartCount, 2);
  EXPECT_EQ(c.restartPolicy, "unless-stopped");
  EXPECT_EQ(c.memoryLimitBytes, 1610612736);
  EXPECT_EQ(c.hostPort, 13005);
  EXPECT_EQ(c.entityType, "agent");
  EXPECT_EQ(c.displayName, "Bot");
  EXPECT_EQ(c.publicKey, "pk");
  EXPECT_EQ(c.createdAt, parseRfc3339("2026-11-28T00:00:01.5Z").value());
  EXPECT_TRUE(c.finishedAt.has_value());

  auto never = parseInspect(parseObj(R"({"Id":"x","Name":"/zynd-n","State":{"Running":true,
      "ExitCode":0,"StartedAt":"2026-11-28T00:00:02Z","FinishedAt":"0001-01-01T00:00:00Z"},
      "Config":{"Labels":null},"HostConfig":{}})"), {});
  ASSERT_TRUE(never.isOk());
  EXPECT_FALSE((*never.value()).exitCode.has_value());
  EXPECT_EQ((*never.value()).restartPolicy, "no");

  auto other = parseInspect(parseObj(R"({"Id":"y","Name":"/web","Config":{"Labels":{}}})"), {});
  ASSERT_TRUE(other.isOk());
  EXPECT_FALSE(other.value().has_value());
}

TEST(DockerJsonTest, StatsLikeDockerStats) {
  // cgroup v1 shape.
  auto a = parseStats(parseObj(R"({"read":"2026-11-28T00:00:00Z",
    "cpu_stats":{"cpu_usage":{"total_usage":1000000000,"percpu_usage":[1,2]},"system_cpu_usage":10000000000},
    "memory_stats":{"usage":300,"limit":1000,"stats":{"total_inactive_file":100,"inactive_file":5}}})"));
  ASSERT_TRUE(a.isOk());
  EXPECT_EQ(a->onlineCpus, 2u);
  EXPECT_EQ(a->memUsedBytes, 200);
  EXPECT_EQ(a->memLimitBytes, 1000);
  auto b = parseStats(parseObj(R"({"read":"2026-11-28T00:00:01Z",
    "cpu_stats":{"cpu_usage":{"total_usage":1500000000},"system_cpu_usage":12000000000,"online_cpus":2},
    "memory_stats":{"usage":300,"limit":1000,"stats":{"inactive_file":50}}})"));
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(b->memUsedBytes, 250);  // cgroup v2 key
  // 0.5 s of CPU over 2 s of system time on 2 CPUs = 50 % of one core (zc::cpuRate's rules
  // are tested in core).
  EXPECT_DOUBLE_EQ(cpuRate(cpuReading(a.value()), cpuReading(b.value())).value(), 50.0);
  EXPECT_FALSE(cpuRate(cpuReading(b.value()), cpuReading(a.value())));
}

TEST(DockerJsonTest, EventsOfDeploymentContainers) {
  auto die = parseEvent(R"({"status":"die","id":"abc","Type":"container","Action":"die",
    "Actor":{"ID":"abc","Attributes":{"exitCode":"3","name":"zynd-d1","image":"x"}},
    "time":1764290225,"timeNano":1764290225123456789})");
  ASSERT_TRUE(die.has_value());
  EXPECT_EQ(die->type, plugin::RuntimeEventType::kDie);
  EXPECT_EQ(die->deploymentId, "d1");
  EXPECT_EQ(die->containerId, "abc");
  EXPECT_EQ(die->exitCode, 3);
  EXPECT_EQ(die->ts, 1764290225123456789);

  auto byLabel = parseEvent(R"({"Type":"container","Action":"oom",
    "Actor":{"ID":"abc","Attributes":{"name":"whatever","zynd.deployment":"lab"}},"timeNano":1})");
  ASSERT_TRUE(byLabel.has_value());
  EXPECT_EQ(byLabel->type, plugin::RuntimeEventType::kOom);
  EXPECT_EQ(byLabel->deploymentId, "lab");

  EXPECT_FALSE(parseEvent(R"({"Type":"container","Action":"die","Actor":{"ID":"a","Attributes":{"name":"web"}}})"));
  EXPECT_FALSE(parseEvent(R"({"Type":"network","Action":"connect","Actor":{"Attributes":{"name":"zynd-x"}}})"));
  EXPECT_FALSE(parseEvent(R"({"Type":"container","Action":"exec_start: sh","Actor":{"Attributes":{"name":"zynd-x"}}})"));
  EXPECT_FALSE(parseEvent("not json"));
  EXPECT_FALSE(parseEvent("[1,2]"));
}

TEST(DockerJsonTest, EventFilterIsUrlEncoded) {
  std::string q = eventFiltersQuery();
  EXPECT_EQ(q.find_first_of("{}\"[]:,"), std::string::npos) << q;
  EXPECT_NE(q.find("%7B%22type%22%3A%5B%22container%22%5D"), std::string::npos) << q;
}

TEST(DockerJsonTest, FiltersQueryIsUrlEncoded) {
  EXPECT_EQ(filtersQuery(R"({"name":["^/?zynd-"]})"),
            "filters=%7B%22name%22%3A%5B%22%5E%2F%3Fzynd-%22%5D%7D");
}

TEST(DockerRuntimeOptionsTest, DefaultsAndBadValues) {
  auto d = parseRuntimeOptions({});
  ASSERT_TRUE(d.isOk());
  EXPECT_EQ(d->socketPath, "/var/run/docker.sock");
  EXPECT_EQ(d->follow.maxLineBytes, 1048576u);
  EXPECT_EQ(d->follow.stallTimeout, std::chrono::seconds(5));
  auto ok = parseRuntimeOptions({{"socket", "/tmp/x.sock"}, {"stall_timeout", "250ms"},
                                 {"max_line_bytes", "4096"}});
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->follow.stallTimeout, std::chrono::milliseconds(250));
  EXPECT_EQ(ok->follow.maxLineBytes, 4096u);
  for (auto bad : std::vector<std::map<std::string, std::string>>{
           {{"socket", "relative.sock"}},
           {{"max_line_bytes", "12x"}},
           {{"max_line_bytes", "10"}},
           {{"stall_timeout", "-1s"}},
           {{"no_such_option", "1"}}}) {
    auto r = parseRuntimeOptions(bad);
    EXPECT_FALSE(r.isOk());
    if (!r.isOk()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
  EXPECT_TRUE(isSafeContainerRef("zynd-abc_1.x"));
  EXPECT_FALSE(isSafeContainerRef("../images"));
  EXPECT_FALSE(isSafeContainerRef("a?b"));
  EXPECT_FALSE(isSafeContainerRef(""));
}

}  // namespace
}  // namespace zc::docker
