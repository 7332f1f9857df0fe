// Contract (log_download.h): GET .../logs/download streams the stored log as text or NDJSON with
// chunked framing, the same lines as the API's pages, byte for byte, piece by piece (a client
// that reads slowly holds no worker), with a filename; bad input is JSON 400/404.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "exporter_fixture.h"
#include "http_test_client.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::HttpReply;
using zc::testing::httpRequest;

struct Download {
  std::string head;
  std::string body;  // de-chunked
  bool complete = false;  // the last chunk arrived
};

// Sends the request and reads until the server closes; `pauseMs` before reading anything.
std::string exchange(uint16_t port, const std::string& target, int rcvbuf = 0, int pauseMs = 0) {
  int fd = zc::testing::connectLoopback(port, rcvbuf);
  if (fd < 0) return {};
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  if (pauseMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string all;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return all;
}

Download dechunk(const std::string& raw) {
  Download d;
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return d;
  d.head = raw.substr(0, end + 2);
  size_t pos = end + 4;
  for (;;) {
    size_t eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return d;
    size_t len = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (len == 0) {
      d.complete = raw.compare(pos, 2, "\r\n") == 0;
      return d;
    }
    if (raw.size() < pos + len + 2) return d;
    d.body.append(raw, pos, len);
    pos += len + 2;
  }
}

// The lines' JSON objects of every API page, one per line: what NDJSON must equal.
std::string pagesAsNdjson(ExporterStack& stack, std::string* texts) {
  std::string out;
  uint64_t since = 0;
  for (int i = 0; i < 1000; ++i) {
    HttpReply r = httpRequest(stack.port(), "GET",
                              "/api/deployments/d/logs?limit=5000&since=" + std::to_string(since));
    size_t a = r.body.find("[") + 1, b = r.body.rfind("],\"nextSince\"");
    std::string arr = r.body.substr(a, b - a);
    if (arr.empty()) break;
    // The test's texts hold no braces: objects split at "},{".
    size_t start = 0;
    for (;;) {
      size_t cut = arr.find("},{", start);
      std::string obj = arr.substr(start, cut == std::string::npos ? std::string::npos : cut + 1 - start);
      out += obj + "\n";
      size_t t = obj.find("\"text\":\"") + 8;
      *texts += obj.substr(t, obj.find("\",\"truncated\"") - t) + "\n";
      if (cut == std::string::npos) break;
      start = cut + 2;
    }
    since = std::stoull(r.body.substr(r.body.find("\"nextSince\":") + 12));
  }
  return out;
}

TEST(LogDownloadTest, TwoHundredThousandLinesEqualTheApisLinesByteForByte) {
  ExporterStack stack;
  stack.api->addDeployment("d");
  for (int b = 0; b < 20; ++b) {
    stack.api->appendGenerated("d", 10000, [](size_t, uint64_t no) {
      return "line " + std::to_string(no) + " of the download test";
    });
  }
  stack.api->appendLines("d", {"[CRASH] exit=1 oom=false"}, zc::LogStream::kSystem);
  std::string texts;
  std::string ndjson = pagesAsNdjson(stack, &texts);
  ASSERT_EQ(std::count(ndjson.begin(), ndjson.end(), '\n'), 200001);

  Download text = dechunk(exchange(stack.port(), "/api/deployments/d/logs/download"));
  ASSERT_TRUE(text.complete);
  EXPECT_NE(text.head.find("Transfer-Encoding: chunked"), std::string::npos) << text.head;
  EXPECT_NE(text.head.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(text.head.find("Content-Disposition: attachment; filename=\"d.log\""), std::string::npos);
  EXPECT_TRUE(text.body == texts) << "sizes " << text.body.size() << " vs " << texts.size();

  Download nd = dechunk(exchange(stack.port(), "/api/deployments/d/logs/download?format=ndjson"));
  ASSERT_TRUE(nd.complete);
  EXPECT_NE(nd.head.find("filename=\"d.ndjson\""), std::string::npos);
  EXPECT_TRUE(nd.body == ndjson) << "sizes " << nd.body.size() << " vs " << ndjson.size();

  Download range = dechunk(exchange(stack.port(), "/api/deployments/d/logs/download?since=10&until=12"));
  ASSERT_TRUE(range.complete);
  EXPECT_EQ(range.body,
            "line 11 of the download test\nline 12 of the download test\n");
}

TEST(LogDownloadTest, ASlowReaderHoldsNoWorkerAndGetsTheWholeFile) {
  zc::exporters::HttpServerOptions http;
  http.maxThreads = 1;  // one worker: a download that held it would block /healthz
  ExporterStack stack({}, http);
  stack.api->addDeployment("d");
  const std::string pad(200, 'p');
  for (int b = 0; b < 10; ++b) {
    stack.api->appendGenerated("d", 10000, [&](size_t, uint64_t no) {
      return "line " + std::to_string(no) + " " + pad;
    });
  }
  std::string got;
  std::thread slow([&] {
    got = exchange(stack.port(), "/api/deployments/d/logs/download", 4096, 2000);
  });
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 10; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    HttpReply h = httpRequest(stack.port(), "GET", "/healthz");
    EXPECT_EQ(h.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
    std::this_thread::sleep_for(100ms);
  }
  slow.join();
  Download d = dechunk(got);
  ASSERT_TRUE(d.complete);
  EXPECT_EQ(std::count(d.body.begin(), d.body.end(), '\n'), 100000);
  EXPECT_EQ(d.body.substr(0, 7), "line 1 ");
}

TEST(LogDownloadTest, BadInputIsJson) {
  ExporterStack stack;
  stack.api->addDeployment("d");
  HttpReply unknown = httpRequest(stack.port(), "GET", "/api/deployments/nope/logs/download");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("\"error\":\"not_found\""), std::string::npos);
  HttpReply format = httpRequest(stack.port(), "GET", "/api/deployments/d/logs/download?format=csv");
  EXPECT_EQ(format.status, 400);
  EXPECT_NE(format.body.find("\"error\":\"invalid_parameter\""), std::string::npos);
  HttpReply until = httpRequest(stack.port(), "GET", "/api/deployments/d/logs/download?until=x");
  EXPECT_EQ(until.status, 400);
  std::string raw = exchange(stack.port(), "/api/deployments/d/logs/download");
  Download empty = dechunk(raw);
  EXPECT_TRUE(empty.complete) << raw;
  EXPECT_EQ(empty.body, "");
}

}  // namespace
