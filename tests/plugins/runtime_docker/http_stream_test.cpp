#include "http_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace zc::docker {
namespace {

struct Parsed {
  Status status;
  std::string body;
  bool complete = false;
  HttpResponseReader reader;
};

// Feeds `wire` in slices of `step` bytes.
void parse(const std::string& wire, size_t step, Parsed* p) {
  size_t pos = 0;
  while (pos < wire.size()) {
    size_t n = std::min(step, wire.size() - pos);
    const char* at = wire.data() + pos;
    if (!p->reader.headComplete()) {
      size_t used = 0;
      p->status = p->reader.feedHead(at, n, &used);
      if (!p->status.isOk()) return;
      at += used;
      n -= used;
      pos += used;
      if (!p->reader.headComplete()) continue;
    }
    p->status = p->reader.feedBody(at, n, [&](const char* b, size_t len) {
      p->body.append(b, len);
      return true;
    });
    if (!p->status.isOk()) return;
    pos += n;
  }
  p->complete = p->reader.complete();
}

const std::string kChunked =
    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\ncontent-type: application/vnd.docker.raw-stream\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n"
    "1A;ext=1\r\n abcdefghijklmnopqrstuvwxy\r\n"
    "0\r\nTrailer: x\r\n\r\n";

TEST(HttpResponseReaderTest, ChunkedFedAtEverySliceSize) {
  for (size_t step = 1; step <= kChunked.size(); ++step) {
    Parsed p;
    parse(kChunked, step, &p);
    ASSERT_TRUE(p.status.isOk()) << step << " " << p.status.toString();
    EXPECT_EQ(p.reader.status(), 200);
    EXPECT_EQ(p.reader.header("API-VERSION"), "1.41");
    EXPECT_EQ(p.reader.header("Content-Type"), "application/vnd.docker.raw-stream");
    EXPECT_EQ(p.body, "hello abcdefghijklmnopqrstuvwxy") << step;
    EXPECT_TRUE(p.complete) << step;
  }
}

TEST(HttpResponseReaderTest, ContentLengthAndUntilClose) {
  Parsed a;
  parse("HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nmissingEXTRA", 3, &a);
  ASSERT_TRUE(a.status.isOk());
  EXPECT_EQ(a.reader.status(), 404);
  EXPECT_EQ(a.body, "missing");
  EXPECT_TRUE(a.complete);

  Parsed b;
  parse("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nraw body", 4, &b);
  ASSERT_TRUE(b.status.isOk());
  EXPECT_EQ(b.body, "raw body");
  EXPECT_FALSE(b.complete);
  EXPECT_TRUE(b.reader.atEof().isOk());

  Parsed c;
  parse("HTTP/1.1 204 No Content\r\n\r\n", 100, &c);
  EXPECT_TRUE(c.complete);
}

TEST(HttpResponseReaderTest, EofInsideAChunkIsAnError) {
  Parsed p;
  parse(kChunked.substr(0, kChunked.size() - 20), 16, &p);
  ASSERT_TRUE(p.status.isOk());
  EXPECT_FALSE(p.complete);
  EXPECT_EQ(p.reader.atEof().code(), Status::Code::kUnavailable);
}

TEST(HttpResponseReaderTest, MalformedInputIsCorruption) {
  for (std::string wire : {
           std::string("HTTX/1.1 200 OK\r\n\r\n"),
           std::string("HTTP/1.1 2x0 OK\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n"),
       }) {
    Parsed p;
    parse(wire, 1, &p);
    EXPECT_EQ(p.status.code(), Status::Code::kCorruption) << wire;
  }
  // A head that never ends.
  Parsed big;
  parse("HTTP/1.1 200 OK\r\n" + std::string(70000, 'h'), 1000, &big);
  EXPECT_EQ(big.status.code(), Status::Code::kCorruption);
}

TEST(StopSignalTest, WaitReturnsAtOnceWhenTriggered) {
  StopSignal s;
  EXPECT_FALSE(s.stopped());
  EXPECT_FALSE(s.waitFor(std::chrono::milliseconds(10)));
  s.trigger();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(s.waitFor(std::chrono::seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_TRUE(s.stopped());
}

}  // namespace
}  // namespace zc::docker
