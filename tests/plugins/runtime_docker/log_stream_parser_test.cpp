// LogStreamParser: a log response parsed from any slicing of the socket's bytes gives the same
// lines, chunks and errors as the whole response at once.
#include "log_stream_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mux_frame.h"

namespace zc::docker {
namespace {

using testing::muxFrame;

std::string ts(int sec, int ns = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "2026-01-01T00:00:%02d.%09dZ ", sec, ns);
  return buf;
}

// A chunked response whose body is cut into HTTP chunks of the given sizes (cycled), so chunk
// boundaries fall inside frame headers, payloads and timestamps.
std::string chunked(const std::string& body, std::vector<size_t> sizes,
                    const std::string& extraHeaders = "") {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n" +
                  extraHeaders + "Transfer-Encoding: chunked\r\n\r\n";
  size_t pos = 0, i = 0;
  while (pos < body.size()) {
    size_t n = std::min(sizes[i++ % sizes.size()], body.size() - pos);
    char hex[32];
    std::snprintf(hex, sizeof hex, "%zx\r\n", n);
    r += hex;
    r += body.substr(pos, n);
    r += "\r\n";
    pos += n;
  }
  return r + "0\r\n\r\n";
}

struct Outcome {
  std::vector<std::string> lines;  // "o:" / "e:" + text
  size_t dues = 0;
  std::string error;  // first error from feed/finish/atEof
  bool complete = false;
  int status = 0;
  bool operator==(const Outcome&) const = default;
};

// Feeds `resp` cut at the given offsets (sorted), then EOF.
Outcome run(const std::string& resp, const std::vector<size_t>& cuts, bool tty = false,
            size_t maxLines = 4000) {
  Outcome o;
  LineAssembler assembler(LineAssembler::Options{1 << 20, 16 * 1024});
  assembler.reset(LogCursor{});
  std::vector<plugin::RawLine> pending;
  LogStreamParser parser(assembler, pending,
                         LogStreamParser::Limits{1 << 20, 16 * 1024, maxLines, 1 << 20}, tty);
  auto take = [&] {
    for (auto& l : pending) {
      o.lines.push_back(std::string(l.stream == LogStream::kStderr ? "e:" : "o:") + l.text);
    }
    pending.clear();
    assembler.takeEmittedBytes();
  };
  auto due = [&] {
    ++o.dues;
    take();
    return true;
  };
  size_t pos = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(resp.size());
  for (size_t end : ends) {
    if (end < pos) continue;
    Status st = parser.feed(resp.data() + pos, end - pos, due);
    pos = end;
    if (!st.isOk()) {
      o.error = st.toString();
      break;
    }
    if (parser.bodyComplete()) {
      Status f = parser.finish(due);
      if (!f.isOk()) o.error = f.toString();
      break;
    }
  }
  if (o.error.empty() && !parser.bodyComplete()) {
    Status e = parser.atEof(due);
    if (!e.isOk()) o.error = e.toString();
  }
  o.complete = parser.bodyComplete();
  o.status = parser.status();
  take();
  o.dues = 0;  // compared separately
  return o;
}

std::string sampleBody() {
  std::string b;
  b += muxFrame(1, ts(1) + "first line\n");
  b += muxFrame(2, ts(1, 5) + "an error\r\n");
  b += muxFrame(1, ts(2) + "two\nlines\n");
  b += muxFrame(1, ts(3) + std::string(40, 'x') + "\n");
  return b;
}

TEST(LogStreamParserTest, EverySplitPointGivesTheSameLines) {
  for (std::vector<size_t> sizes : {std::vector<size_t>{1000}, {1}, {3, 7}, {8}, {9, 2, 30}}) {
    std::string resp = chunked(sampleBody(), sizes);
    Outcome whole = run(resp, {});
    ASSERT_EQ(whole.error, "");
    ASSERT_EQ(whole.lines, (std::vector<std::string>{"o:first line", "e:an error", "o:two",
                                                     "o:lines", "o:" + std::string(40, 'x')}));
    EXPECT_TRUE(whole.complete);
    for (size_t cut = 0; cut <= resp.size(); ++cut) {
      EXPECT_EQ(run(resp, {cut}), whole) << "cut at " << cut;
    }
    // Every byte on its own.
    std::vector<size_t> all;
    for (size_t i = 1; i < resp.size(); ++i) all.push_back(i);
    EXPECT_EQ(run(resp, all), whole);
  }
}

TEST(LogStreamParserTest, TwoCutsAnywhere) {
  std::string resp = chunked(sampleBody(), {5, 11});
  Outcome whole = run(resp, {});
  for (size_t a = 0; a <= resp.size(); a += 3) {
    for (size_t b = a; b <= resp.size(); b += 5)
      EXPECT_EQ(run(resp, {a, b}), whole) << a << "," << b;
  }
}

TEST(LogStreamParserTest, ChunkIsDueAtMaxLinesOnAMessageBoundary) {
  std::string body;
  for (int i = 0; i < 10; ++i) body += muxFrame(1, ts(1, i) + "l" + std::to_string(i) + "\n");
  std::string resp = chunked(body, {17});
  LineAssembler assembler(LineAssembler::Options{1 << 20, 16 * 1024});
  assembler.reset(LogCursor{});
  std::vector<plugin::RawLine> pending;
  LogStreamParser parser(assembler, pending,
                         LogStreamParser::Limits{1 << 20, 16 * 1024, 3, 1 << 20}, false);
  std::vector<size_t> chunkSizes;
  auto due = [&] {
    chunkSizes.push_back(pending.size());
    pending.clear();
    return chunkSizes.size() < 2;  // the consumer stops after its second chunk
  };
  ASSERT_TRUE(parser.feed(resp.data(), resp.size(), due).isOk());
  EXPECT_TRUE(parser.stoppedEarly());
  EXPECT_EQ(chunkSizes, (std::vector<size_t>{3, 3}));
  EXPECT_TRUE(pending.empty());
}

TEST(LogStreamParserTest, CutsAreErrorsAndCleanEndsAreNot) {
  std::string resp = chunked(sampleBody(), {1000});
  // EOF before the head, inside a chunk, inside a frame.
  EXPECT_NE(run(resp.substr(0, 20), {}).error, "");
  std::string head = resp.substr(0, resp.find("\r\n\r\n") + 4);
  EXPECT_NE(run(resp.substr(0, head.size() + 10), {}).error, "");
  // A body delimited by close that ends inside a frame.
  std::string closeDelimited = "HTTP/1.1 200 OK\r\n\r\n" + sampleBody();
  EXPECT_EQ(run(closeDelimited, {}).error, "");
  EXPECT_NE(run(closeDelimited.substr(0, closeDelimited.size() - 3), {}).error, "");
}

TEST(LogStreamParserTest, EngineErrorFrameAndGarbageBreakTheStream) {
  std::string resp = chunked(muxFrame(1, ts(1) + "ok\n") + muxFrame(3, "boom"), {1000});
  Outcome o = run(resp, {});
  EXPECT_NE(o.error.find("boom"), std::string::npos) << o.error;
  EXPECT_EQ(o.lines, (std::vector<std::string>{"o:ok"}));
  Outcome g = run(chunked(muxFrame(7, "x"), {1000}), {});
  EXPECT_NE(g.error, "");
  Outcome h = run("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", {});
  EXPECT_NE(h.error, "");
}

TEST(LogStreamParserTest, OtherStatusKeepsTheBodyForTheMessage) {
  std::string body = R"({"message":"No such container: abc"})";
  std::string resp = "HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n" + body;
  for (size_t cut = 0; cut <= resp.size(); ++cut) {
    LineAssembler assembler(LineAssembler::Options{1 << 20, 16 * 1024});
    std::vector<plugin::RawLine> pending;
    LogStreamParser parser(assembler, pending, LogStreamParser::Limits{}, false);
    auto due = [] { return true; };
    ASSERT_TRUE(parser.feed(resp.data(), cut, due).isOk());
    ASSERT_TRUE(parser.feed(resp.data() + cut, resp.size() - cut, due).isOk());
    EXPECT_EQ(parser.status(), 404);
    EXPECT_EQ(parser.errorBody(), body);
    EXPECT_TRUE(pending.empty());
  }
}

TEST(LogStreamParserTest, TtyStreamByHeaderOrContainerAndItsLastMessageAtTheEnd) {
  std::string raw = ts(1) + "one\r\n" + ts(2) + "two\r\n" + ts(3) + "last without newline";
  std::string resp =
      "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" + raw;
  Outcome whole = run(resp, {});
  EXPECT_EQ(whole.error, "");
  EXPECT_EQ(whole.lines, (std::vector<std::string>{"o:one", "o:two", "o:last without newline"}));
  for (size_t cut = 0; cut <= resp.size(); ++cut) EXPECT_EQ(run(resp, {cut}), whole) << cut;
  std::string plain = "HTTP/1.1 200 OK\r\n\r\n" + raw;
  EXPECT_EQ(run(plain, {}, /*tty=*/true).lines, whole.lines);
}

}  // namespace
}  // namespace zc::docker
