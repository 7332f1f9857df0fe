// The one response-head writer (exporters/src/response_head.*), the JSON error responses built
// on it, the SSE head, and the /healthz body (exporters/src/health_route.*); plus /healthz and
// the pages served through the whole stack.
#include "response_head.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "exporter_fixture.h"
#include "health_route.h"
#include "json_response.h"
#include "sse_format.h"
#include "test_support.h"

namespace {

using zc::exporters::ResponseHead;
using zc::exporters::writeResponseHead;
using zc::testing::ExporterStack;
using zc::testing::httpRequest;

TEST(ResponseHeadTest, StatusLineServerFieldsInOrderThenFraming) {
  ResponseHead h;
  h.status = 404;
  h.fields = {{"Content-Type", "application/json"}, {"Allow", "GET, HEAD"}};
  h.contentLength = 12;
  h.keepAlive = true;
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 404 Not Found\r\n"
            "Server: zynd-collector\r\n"
            "Content-Type: application/json\r\n"
            "Allow: GET, HEAD\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Content-Length: 12\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(ResponseHeadTest, WithoutALengthTheBodyRunsUntilClose) {
  ResponseHead h;
  h.fields = {{"Content-Type", "text/event-stream"}};
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 200 OK\r\nServer: zynd-collector\r\nContent-Type: text/event-stream\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ResponseHeadTest, TheCallersServerReplacesTheDefault) {
  ResponseHead h;
  h.fields = {{"server", "other"}};
  h.contentLength = 0;
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 200 OK\r\nserver: other\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHeadTest, FramingFieldsBelongToTheWriter) {
  ResponseHead h;
  h.fields = {{"Content-Length", "999"},
              {"connection", "upgrade"},
              {"Transfer-Encoding", "chunked"},
              {"X-Kept", "1"}};
  h.contentLength = 3;
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 200 OK\r\nServer: zynd-collector\r\nX-Kept: 1\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Content-Length: 3\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ResponseHeadTest, FieldsWithLineBreaksAreDropped) {
  ResponseHead h;
  h.reason = "OK\r\nX-Evil: 1";
  h.fields = {{"X-A", "a\r\nX-Evil: 1"}, {"X-B\n", "b"}, {"", "c"}, {"X-C", "c"}};
  h.contentLength = 0;
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 200 OK\r\nServer: zynd-collector\r\nX-C: c\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n\r\n");
}

TEST(ResponseHeadTest, ReasonDefaultsToTheStandardPhrase) {
  EXPECT_EQ(zc::exporters::reasonPhrase(404), "Not Found");
  for (int status : {200, 202, 400, 405, 408, 411, 413, 414, 431, 503}) {
    ResponseHead h;
    h.status = status;
    h.contentLength = 0;
    std::string head = writeResponseHead(h);
    EXPECT_EQ(head.substr(0, head.find("\r\n")),
              "HTTP/1.1 " + std::to_string(status) + " " + zc::exporters::reasonPhrase(status));
    EXPECT_FALSE(zc::exporters::reasonPhrase(status).empty()) << status;
  }
  ResponseHead custom;
  custom.reason = "Fine";
  custom.contentLength = 0;
  EXPECT_EQ(writeResponseHead(custom).rfind("HTTP/1.1 200 Fine\r\n", 0), 0u);
}

TEST(ResponseHeadTest, SecurityFieldsTheCallerSetAreNotRepeated) {
  ResponseHead h;
  h.fields = {{"content-security-policy", "default-src 'none'"}, {"X-Content-Type-Options", "x"}};
  h.contentLength = 0;
  EXPECT_EQ(writeResponseHead(h),
            "HTTP/1.1 200 OK\r\nServer: zynd-collector\r\n"
            "content-security-policy: default-src 'none'\r\nX-Content-Type-Options: x\r\n"
            "Referrer-Policy: no-referrer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(ResponseHeadTest, InterimResponseIsTheStatusLineAlone) {
  ResponseHead h;
  h.status = 100;
  h.fields = {{"X-A", "1"}};
  h.contentLength = 5;
  EXPECT_EQ(writeResponseHead(h), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(ResponseHeadTest, ErrorResponseIsAClosingJsonAnswer) {
  std::string r = zc::exporters::errorResponse(503, "overloaded", "busy", {{"Retry-After", "1"}});
  const std::string body = R"({"error":"overloaded","message":"busy"})";
  EXPECT_EQ(r,
            "HTTP/1.1 503 Service Unavailable\r\nServer: zynd-collector\r\nRetry-After: 1\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Content-Length: " +
                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

TEST(ResponseHeadTest, SseHeadComesFromTheSameWriter) {
  EXPECT_EQ(zc::exporters::sseResponseHead(),
            "HTTP/1.1 200 OK\r\nServer: zynd-collector\r\nContent-Type: text/event-stream\r\n"
            "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
            "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"
            "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HealthzTest, BodyKeepsItsMembersOrderAndValues) {
  zc::host::CollectorHealth h;
  h.storagePlugin = "rocksdb";
  h.runtimePlugin = "docker";
  h.runtimeConfigured = true;
  h.runtimeConnected = true;
  h.activeFollows = 3;
  h.deployments = 4;
  h.linesIngested = 1000;
  h.batchesCommitted = 20;
  h.commitFailures = 1;
  h.hasMetricsSampler = true;
  h.sweeps = 7;
  h.lastSweepTargets = 4;
  h.lastSweepStored = 3;
  h.lastSweepMs = 12.5;
  h.hostId = "host-1";
  h.advertiseUrl = "http://10.0.0.5:7070";
  EXPECT_EQ(zc::exporters::healthJson(h, "0.1.0"),
            R"({"deployments":4,"host":{"advertiseUrl":"http://10.0.0.5:7070","id":"host-1"},)"
            R"("metricsSampler":{"lastSweepMs":12.5,"lastSweepStored":3,)"
            R"("lastSweepTargets":4,"sweeps":7},"pipeline":{"batchesCommitted":20,)"
            R"("commitFailures":1,"linesIngested":1000},"runtime":{"connected":true,)"
            R"("follows":3,"plugin":"docker"},"status":"ok","storage":{"ok":true,)"
            R"("plugin":"rocksdb"},"version":"0.1.0"})");
}

TEST(HealthzTest, DegradedWhenStorageFailsOrTheRuntimeIsAway) {
  zc::host::CollectorHealth h;
  h.storagePlugin = "memory";
  h.runtimePlugin = "none";
  EXPECT_EQ(zc::exporters::healthJson(h, "0.1.0"),
            R"({"deployments":0,"host":{"advertiseUrl":null,"id":""},)"
            R"("pipeline":{"batchesCommitted":0,"commitFailures":0,)"
            R"("linesIngested":0},"runtime":{"connected":false,"follows":0,"plugin":"none"},)"
            R"("status":"ok","storage":{"ok":true,"plugin":"memory"},"version":"0.1.0"})");
  h.storageOk = false;
  h.storageDetail = "disk full";
  std::string body = zc::exporters::healthJson(h, "0.1.0");
  EXPECT_NE(body.find(R"("status":"degraded")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("storage":{"detail":"disk full","ok":false,"plugin":"memory"})"),
            std::string::npos)
      << body;
  h.storageOk = true;
  h.runtimeConfigured = true;
  h.runtimeConnected = false;
  body = zc::exporters::healthJson(h, "0.1.0");
  EXPECT_NE(body.find(R"("status":"degraded")"), std::string::npos) << body;
}

TEST(HealthzTest, ASinkShowsItsLagAndWhyItIsUnreachableButNeverDegradesTheStatus) {
  zc::host::CollectorHealth h;
  h.storagePlugin = "rocksdb";
  h.runtimePlugin = "none";
  h.hasSink = true;
  h.sinkPlugin = "postgres";
  h.sinkConnected = false;
  h.sinkDetail = "open: Unavailable: postgres host=db: connection refused";
  h.forwardLagLines = 12;
  h.forwardLagSeconds = 1.5;
  h.linesForwarded = 7;
  std::string body = zc::exporters::healthJson(h, "0.1.0");
  EXPECT_NE(body.find(R"("sink":{"detail":"open: Unavailable: postgres host=db: connection refused",)"
                      R"("lagLines":12,"lagSeconds":1.5,"linesForwarded":7,"plugin":"postgres",)"
                      R"("reachable":false})"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("status":"ok")"), std::string::npos) << body;
}

TEST(HealthzTest, IsAnExporterRoute) {
  ExporterStack stack;
  stack.api->addDeployment("dep-a");
  auto r = httpRequest(stack.port(), "GET", "/healthz");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.header("server"), "zynd-collector");
  EXPECT_EQ(r.body,
            R"({"deployments":1,"host":{"advertiseUrl":null,"id":""},)"
            R"("pipeline":{"batchesCommitted":0,"commitFailures":0,)"
            R"("linesIngested":0},"runtime":{"connected":false,"follows":0,"plugin":"none"},)"
            R"("status":"ok","storage":{"ok":true,"plugin":"memory"},"version":"0.1.0"})");
}

TEST(PagesTest, ServedFromTheDistFolderWithoutEscapingIt) {
  zc::testing::TempDir dist;
  std::filesystem::create_directories(dist.path() + "/assets");
  std::ofstream(dist.path() + "/index.html") << "<p>list</p>";
  std::ofstream(dist.path() + "/detail.html") << "<p>detail</p>";
  std::ofstream(dist.path() + "/assets/app-1.js") << "go()";
  std::ofstream(dist.path() + "/secret.txt") << "no";
  zc::exporters::ExporterOptions options;
  options.webDir = dist.path();
  ExporterStack stack(options);

  auto index = httpRequest(stack.port(), "GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<p>list</p>");
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("cache-control"), "no-cache");
  EXPECT_EQ(index.header("server"), "zynd-collector");
  EXPECT_EQ(index.header("content-security-policy"), "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.header("referrer-policy"), "no-referrer");

  auto detail = httpRequest(stack.port(), "GET", "/d/dep-a");
  EXPECT_EQ(detail.status, 200);
  EXPECT_EQ(detail.body, "<p>detail</p>");
  EXPECT_EQ(httpRequest(stack.port(), "GET", "/d/a.b").status, 404);

  auto asset = httpRequest(stack.port(), "GET", "/assets/app-1.js");
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.body, "go()");
  EXPECT_EQ(asset.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(asset.header("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(httpRequest(stack.port(), "GET", "/assets/..%2Fsecret.txt").status, 404);
  EXPECT_EQ(httpRequest(stack.port(), "GET", "/assets/.hidden").status, 404);
  EXPECT_EQ(httpRequest(stack.port(), "GET", "/assets/missing.js").status, 404);
}

TEST(PagesTest, NotRegisteredWithoutADistFolder) {
  ExporterStack stack;
  auto r = httpRequest(stack.port(), "GET", "/");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no such path"), std::string::npos) << r.body;
}

}  // namespace
