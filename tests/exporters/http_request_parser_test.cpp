// The pure request parser (exporters/src/http_request_parser.*): request line and header fields
// against the limits, then body framing; table-driven, each malformed or oversized case with the
// status and code it is answered with. No sockets.
#include "http_request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::string_literals;
using zc::exporters::frameRequest;
using zc::exporters::parseRequestHead;
using zc::exporters::RequestHead;
using zc::exporters::RequestLimits;

RequestLimits smallLimits() {
  RequestLimits l;
  l.maxRequestLineBytes = 64;
  l.maxHeaderBytes = 128;
  l.maxHeaderCount = 4;
  l.maxBodyBytes = 100;
  return l;
}

struct Good {
  const char* name;
  std::string raw;
  std::string method;
  std::string target;
  size_t headers;
  size_t bodyLen;
  bool expectContinue;
  bool keepAlive;
};

std::vector<Good> goodCases() {
  return {
      {"SimpleGet", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/", 1, 0, false, true},
      {"QueryKept", "GET /a?b=c&d HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/a?b=c&d", 1, 0, false,
       true},
      {"BareLf", "GET /x HTTP/1.1\nHost: x\n\n", "GET", "/x", 1, 0, false, true},
      {"LeadingEmptyLines", "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/", 1, 0, false,
       true},
      {"Http10NoHostCloses", "GET / HTTP/1.0\r\n\r\n", "GET", "/", 0, 0, false, false},
      {"Http10KeepAlive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "GET", "/", 1, 0,
       false, true},
      {"Http11Close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "GET", "/", 2, 0,
       false, false},
      {"ContentLength", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "POST",
       "/p", 2, 5, false, true},
      {"SameContentLengthTwice",
       "POST /p HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\nContent-Length: 3\r\n\r\nabc", "POST",
       "/p", 3, 3, false, true},
      {"BodyAtTheLimit", "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", "POST", "/p",
       2, 100, false, true},
      {"ExpectContinue",
       "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-Continue\r\n\r\n", "POST",
       "/p", 3, 4, true, true},
      {"ValueTrimmedAndTabAllowed", "GET / HTTP/1.1\r\nHost: \t x \t\r\nX-T: a\tb\r\n\r\n", "GET",
       "/", 2, 0, false, true},
      {"EmptyValue", "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n", "GET", "/", 2, 0, false,
       true},
      {"HeaderCountAtTheLimit", "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", "GET",
       "/", 4, 0, false, true},
  };
}

class GoodRequestTest : public ::testing::TestWithParam<Good> {};

TEST_P(GoodRequestTest, ParsesAndFrames) {
  const Good& c = GetParam();
  RequestHead h = parseRequestHead(c.raw, smallLimits());
  ASSERT_EQ(h.state, RequestHead::State::kDone) << h.error.message;
  EXPECT_EQ(h.method, c.method);
  EXPECT_EQ(h.target, c.target);
  EXPECT_EQ(h.headers.size(), c.headers);
  ASSERT_LE(h.end, c.raw.size());
  size_t rest = c.raw.size() - h.end;  // the body bytes the case carries, if any
  EXPECT_TRUE(rest == 0 || rest == c.bodyLen) << rest;
  auto f = frameRequest(h, smallLimits());
  EXPECT_EQ(f.error.status, 0) << f.error.message;
  EXPECT_EQ(f.bodyLen, c.bodyLen);
  EXPECT_EQ(f.expectContinue, c.expectContinue);
  EXPECT_EQ(f.keepAlive, c.keepAlive);
}

INSTANTIATE_TEST_SUITE_P(Table, GoodRequestTest, ::testing::ValuesIn(goodCases()),
                         [](const auto& info) { return std::string(info.param.name); });

struct Bad {
  const char* name;
  std::string raw;
  int status;
  const char* code;
};

std::vector<Bad> badCases() {
  const std::string host = "Host: x\r\n";
  return {
      // The head itself (parseRequestHead).
      {"NoSpaces", "HELLO\r\n\r\n", 400, "bad_request"},
      {"TwoSpaces", "GET  / HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"FourParts", "GET / HTTP/1.1 x\r\n" + host + "\r\n", 400, "bad_request"},
      {"EmptyMethod", " / HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"MethodNotAToken", "G@T / HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"MethodTooLong", "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"Http2", "GET / HTTP/2.0\r\n" + host + "\r\n", 400, "bad_request"},
      {"LowerCaseVersion", "GET / http/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"RelativeTarget", "GET a HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"AbsoluteForm", "GET http://x/ HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"FragmentInTarget", "GET /#f HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"NulInTarget", "GET /a\0b HTTP/1.1\r\n"s + host + "\r\n", 400, "bad_request"},
      {"HighByteInTarget", "GET /caf\xC3\xA9 HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"DelInTarget", "GET /a\x7F HTTP/1.1\r\n" + host + "\r\n", 400, "bad_request"},
      {"LineTooLong", "GET /" + std::string(70, 'a') + " HTTP/1.1\r\n" + host + "\r\n", 414,
       "uri_too_long"},
      {"LineTooLongUnfinished", "GET /" + std::string(70, 'a'), 414, "uri_too_long"},
      {"HeaderWithoutColon", "GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", 400, "bad_request"},
      {"SpaceBeforeColon", "GET / HTTP/1.1\r\n" + host + "X-A : 1\r\n\r\n", 400, "bad_request"},
      {"EmptyName", "GET / HTTP/1.1\r\n" + host + ": v\r\n\r\n", 400, "bad_request"},
      {"Folding", "GET / HTTP/1.1\r\n" + host + "X-A: 1\r\n folded\r\n\r\n", 400, "bad_request"},
      {"NulInValue", "GET / HTTP/1.1\r\n"s + host + "X-A: a\0b\r\n\r\n"s, 400, "bad_request"},
      {"EscInValue", "GET / HTTP/1.1\r\n" + host + "X-A: a\x1b b\r\n\r\n", 400, "bad_request"},
      {"DelInValue", "GET / HTTP/1.1\r\n" + host + "X-A: a\x7F\r\n\r\n", 400, "bad_request"},
      {"HeadersTooLarge", "GET / HTTP/1.1\r\nX-Big: " + std::string(200, 'h') + "\r\n\r\n", 431,
       "headers_too_large"},
      {"HeadersTooLargeUnfinished", "GET / HTTP/1.1\r\nX-Big: " + std::string(200, 'h'), 431,
       "headers_too_large"},
      {"TooManyHeaders", "GET / HTTP/1.1\r\n" + host + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431,
       "too_many_headers"},
      // Framing (frameRequest).
      {"NoHost", "GET / HTTP/1.1\r\n\r\n", 400, "bad_request"},
      {"TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "bad_request"},
      {"Chunked", "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n", 411,
       "length_required"},
      {"AnyTransferEncoding", "POST / HTTP/1.1\r\n" + host + "transfer-encoding: gzip\r\n\r\n", 411,
       "length_required"},
      {"ContentLengthWord", "POST / HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n", 400,
       "bad_request"},
      {"ContentLengthNegative", "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400,
       "bad_request"},
      {"ContentLengthEmpty", "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", 400,
       "bad_request"},
      {"ContentLengthOverflow",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 18446744073709551616\r\n\r\n", 400,
       "bad_request"},
      {"ContentLengthConflict",
       "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
       "bad_request"},
      {"BodyTooLarge", "POST / HTTP/1.1\r\n" + host + "Content-Length: 101\r\n\r\n", 413,
       "payload_too_large"},
  };
}

class BadRequestTest : public ::testing::TestWithParam<Bad> {};

TEST_P(BadRequestTest, IsRefusedWithItsStatus) {
  const Bad& c = GetParam();
  RequestHead h = parseRequestHead(c.raw, smallLimits());
  ASSERT_NE(h.state, RequestHead::State::kNeedMore) << c.name;
  zc::exporters::RequestError e = h.error;
  if (h.state == RequestHead::State::kDone) e = frameRequest(h, smallLimits()).error;
  EXPECT_EQ(e.status, c.status) << c.name << ": " << e.message;
  EXPECT_EQ(e.code, c.code) << c.name;
  EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(Table, BadRequestTest, ::testing::ValuesIn(badCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(RequestParserTest, EveryPrefixOfAGoodRequestNeedsMore) {
  const std::string raw = "POST /p?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";
  for (size_t n = 0; n < raw.size(); ++n) {
    RequestHead h = parseRequestHead(raw.substr(0, n), smallLimits());
    EXPECT_EQ(h.state, RequestHead::State::kNeedMore) << n << " bytes";
  }
  RequestHead h = parseRequestHead(raw + "ab", smallLimits());
  ASSERT_EQ(h.state, RequestHead::State::kDone);
  EXPECT_EQ(h.end, raw.size());
}

// A read may end between CR and LF: a line exactly at its limit is not refused for the CR.
TEST(RequestParserTest, ACarriageReturnAtTheLimitWaitsForItsLineFeed) {
  RequestLimits l = smallLimits();
  const std::string line = "GET /" + std::string(l.maxRequestLineBytes - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), l.maxRequestLineBytes);
  EXPECT_EQ(parseRequestHead(line + "\r", l).state, RequestHead::State::kNeedMore);
  EXPECT_EQ(parseRequestHead(line + "\r\nHost: x\r\n\r\n", l).state, RequestHead::State::kDone);
  EXPECT_EQ(parseRequestHead(line + "a", l).error.status, 414);

  // The header section exactly at its limit, then the CR of the empty line alone.
  l.maxHeaderBytes = 9;  // "Host: x" + CRLF
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  EXPECT_EQ(parseRequestHead(head + "\r", l).state, RequestHead::State::kNeedMore);
  EXPECT_EQ(parseRequestHead(head + "\r\n", l).state, RequestHead::State::kDone);
  EXPECT_EQ(parseRequestHead(head + "X", l).error.status, 431);
}

TEST(RequestParserTest, AHeadEndsAtItsEmptyLineAndLeavesThePipelinedRest) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  RequestHead h = parseRequestHead(first + second, RequestLimits{});
  ASSERT_EQ(h.state, RequestHead::State::kDone);
  EXPECT_EQ(h.end, first.size());
  EXPECT_EQ(h.target, "/a");
  EXPECT_EQ(
      parseRequestHead(std::string_view(first + second).substr(h.end), RequestLimits{}).target,
      "/b");
}

TEST(RequestParserTest, HeaderNamesAndValuesKeepTheirCaseAndOrder) {
  RequestHead h =
      parseRequestHead("GET / HTTP/1.1\r\nhOsT: X\r\nX-B: Two Words\r\nx-a: 1\r\n\r\n", {});
  ASSERT_EQ(h.state, RequestHead::State::kDone);
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[0], (std::pair<std::string, std::string>{"hOsT", "X"}));
  EXPECT_EQ(h.headers[1], (std::pair<std::string, std::string>{"X-B", "Two Words"}));
  EXPECT_EQ(h.headers[2], (std::pair<std::string, std::string>{"x-a", "1"}));
}

TEST(RequestParserTest, EqualsIgnoreCase) {
  EXPECT_TRUE(zc::exporters::equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(zc::exporters::equalsIgnoreCase("Content-Length", "Content-Lengths"));
  EXPECT_TRUE(zc::exporters::equalsIgnoreCase("", ""));
}

}  // namespace
