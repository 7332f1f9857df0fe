// Contract (http_reactor.h, http_workers.h): a client that sends its body slowly after
// Expect: 100-continue, or that never reads its responses, is held by the reactor and never by
// a worker thread, so the server's workers stay free for everybody else.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "exporter_fixture.h"
#include "http_test_client.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::HttpReply;
using zc::testing::httpRequest;

std::string hostHeader(uint16_t port) {
  return "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
}

// Receives until the buffer holds `want` or `timeoutMs` passes.
std::string receiveUntil(int fd, const std::string& want, int timeoutMs) {
  std::string got;
  timeval tv{0, 100 * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  char buf[4096];
  while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < end) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

TEST(SlowClientsTest, ExpectContinueIsAnsweredAndTheBodyReadBeforeTheRouteRuns) {
  ExporterStack stack;
  std::string raw = "POST /api/deployments HTTP/1.1\r\n" + hostHeader(stack.port()) +
                    "Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
  int fd = zc::testing::connectLoopback(stack.port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL), static_cast<ssize_t>(raw.size()));
  std::string interim = receiveUntil(fd, "\r\n\r\n", 5000);
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  // One byte, a pause, the other: the request is complete only then.
  ASSERT_EQ(::send(fd, "{", 1, MSG_NOSIGNAL), 1);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(::send(fd, "}", 1, MSG_NOSIGNAL), 1);
  std::string got = receiveUntil(fd, "}", 5000);
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 405", 0), 0u) << got;
}

TEST(SlowClientsTest, AResponseTheClientDoesNotReadYetIsDeliveredWhole) {
  ExporterStack stack;
  stack.api->addDeployment("big");
  const std::string pad(2000, 'x');
  stack.api->appendGenerated("big", 500, [&](size_t i, uint64_t) {
    return "line " + std::to_string(i) + " " + pad;
  });
  HttpReply whole = httpRequest(stack.port(), "GET", "/api/deployments/big/logs?since=0&limit=500");
  ASSERT_EQ(whole.status, 200);
  ASSERT_GT(whole.body.size(), 1000000u);
  // A small receive window, and a pause before reading: the worker leaves most of the response
  // to the reactor, which must send it all, in order.
  int fd = zc::testing::connectLoopback(stack.port(), 4096);
  ASSERT_GE(fd, 0);
  std::string req = "GET /api/deployments/big/logs?since=0&limit=500 HTTP/1.1\r\n" +
                    hostHeader(stack.port()) + "Connection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(500ms);
  std::string got;
  char buf[65536];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t head = got.find("\r\n\r\n");
  ASSERT_NE(head, std::string::npos);
  EXPECT_EQ(got.substr(head + 4), whole.body);
}

// 16 clients trickling Expect: 100-continue bodies (1 byte every 5 s) and 16 that pipeline
// large pages and never read them, together more than the 16 default workers: /healthz keeps
// answering quickly.
TEST(SlowClientsTest, SlowBodiesAndNonReadingClientsLeaveTheWorkersFree) {
  ExporterStack stack;  // the default options: 16 workers
  stack.api->addDeployment("big");
  const std::string pad(2000, 'x');
  stack.api->appendGenerated("big", 500, [&](size_t i, uint64_t) {
    return "line " + std::to_string(i) + " " + pad;
  });
  const uint16_t port = stack.port();

  std::vector<int> slow;
  const std::string slowHead = "POST /api/deployments HTTP/1.1\r\n" + hostHeader(port) +
                               "Content-Length: 64\r\nExpect: 100-continue\r\n\r\n";
  for (int i = 0; i < 16; ++i) {
    int fd = zc::testing::connectLoopback(port);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, slowHead.data(), slowHead.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(slowHead.size()));
    ASSERT_EQ(receiveUntil(fd, "\r\n\r\n", 5000), "HTTP/1.1 100 Continue\r\n\r\n");
    slow.push_back(fd);
  }
  std::vector<int> deaf;
  std::string pipelined;
  for (int r = 0; r < 8; ++r) {
    pipelined += "GET /api/deployments/big/logs?since=0&limit=500 HTTP/1.1\r\n" + hostHeader(port) +
                 "\r\n";
  }
  for (int i = 0; i < 16; ++i) {
    int fd = zc::testing::connectLoopback(port, 4096);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::send(fd, pipelined.data(), pipelined.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(pipelined.size()));
    deaf.push_back(fd);
  }
  std::this_thread::sleep_for(1s);  // every deaf client's first response has filled its socket

  // 11 s of /healthz, 20 a second, while the slow clients send a byte every 5 s.
  std::vector<double> ms;
  auto start = std::chrono::steady_clock::now();
  auto nextByte = start;
  int failures = 0;
  for (int i = 0; i < 220; ++i) {
    auto now = std::chrono::steady_clock::now();
    if (now >= nextByte) {
      for (int fd : slow) (void)!::send(fd, "x", 1, MSG_NOSIGNAL);
      nextByte += 5s;
    }
    auto t0 = std::chrono::steady_clock::now();
    HttpReply r = httpRequest(port, "GET", "/healthz");
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
    if (r.status != 200) ++failures;
    std::this_thread::sleep_until(start + (i + 1) * 50ms);
  }
  std::sort(ms.begin(), ms.end());
  double p99 = ms[ms.size() * 99 / 100];
  EXPECT_EQ(failures, 0);
  EXPECT_LT(p99, 100.0) << "p50 " << ms[ms.size() / 2] << " ms, max " << ms.back() << " ms";

  // The deaf clients were answered all along: each has the start of a response waiting.
  for (int fd : deaf) {
    EXPECT_EQ(receiveUntil(fd, "HTTP/1.1 ", 2000).rfind("HTTP/1.1 200", 0), 0u);
    ::close(fd);
  }
  for (int fd : slow) ::close(fd);
}

}  // namespace
