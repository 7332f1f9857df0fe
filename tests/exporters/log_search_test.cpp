// Contract (log_search.h, query.h): GET .../logs?q= searches the whole stored log, forward from
// `since` or backward from `before`, within a bound of lines scanned per request, and says where
// to continue; `regex` is RE2 and a bad pattern is a 400; `stream` filters; `fromTs` lands on
// the first line at or after a time.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "exporter_fixture.h"
#include "http_test_client.h"
#include "log_search.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::HttpReply;
using zc::testing::httpRequest;

struct SearchReply {
  int status = 0;
  std::vector<uint64_t> lineNos;
  std::vector<std::string> texts;
  Poco::JSON::Object::Ptr json;
};

SearchReply search(ExporterStack& stack, const std::string& query) {
  HttpReply r = httpRequest(stack.port(), "GET", "/api/deployments/d/logs?" + query);
  SearchReply out;
  out.status = r.status;
  out.json = Poco::JSON::Parser().parse(r.body).extract<Poco::JSON::Object::Ptr>();
  if (r.status != 200) return out;
  auto lines = out.json->getArray("lines");
  for (size_t i = 0; i < lines->size(); ++i) {
    auto l = lines->getObject(static_cast<unsigned>(i));
    out.lineNos.push_back(l->getValue<uint64_t>("lineNo"));
    out.texts.push_back(l->getValue<std::string>("text"));
  }
  return out;
}

// `n` lines "line <lineNo>", with "NEEDLE" in every line whose lineNo is a multiple of `every`.
void fill(ExporterStack& stack, size_t n, size_t every) {
  stack.api->addDeployment("d");
  for (size_t done = 0; done < n; done += 10000) {
    stack.api->appendGenerated("d", std::min<size_t>(10000, n - done), [&](size_t, uint64_t no) {
      return "line " + std::to_string(no) + (no % every == 0 ? " has the NEEDLE" : " plain");
    });
  }
}

TEST(LogSearchTest, FindsALineFarBeforeTheEndCaseInsensitively) {
  ExporterStack stack;
  fill(stack, 60000, 1u << 30);                                  // no match...
  stack.api->appendLines("d", {"the Needle in the haystack"});  // ...but line 60001
  stack.api->appendNumbered("d", 50000);
  auto t0 = std::chrono::steady_clock::now();
  SearchReply r = search(stack, "q=needle&limit=10");
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.lineNos, std::vector<uint64_t>{60001});
  EXPECT_EQ(r.texts[0], "the Needle in the haystack");
  EXPECT_TRUE(r.json->getValue<bool>("done"));
  EXPECT_EQ(r.json->getValue<uint64_t>("nextSince"), 110001u);
  EXPECT_EQ(r.json->getValue<uint64_t>("scanned"), 110001u);
  EXPECT_LT(ms.count(), 2000.0);
}

TEST(LogSearchTest, ForwardPagesContinueFromNextSinceAndFindEveryMatchOnce) {
  ExporterStack stack;
  fill(stack, 5000, 100);  // 50 matches
  std::vector<uint64_t> all;
  uint64_t since = 0;
  for (int i = 0; i < 20; ++i) {
    SearchReply r = search(stack, "q=NEEDLE&limit=7&since=" + std::to_string(since));
    ASSERT_EQ(r.status, 200);
    all.insert(all.end(), r.lineNos.begin(), r.lineNos.end());
    since = r.json->getValue<uint64_t>("nextSince");
    if (r.json->getValue<bool>("done")) break;
  }
  ASSERT_EQ(all.size(), 50u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], (i + 1) * 100);
}

TEST(LogSearchTest, BackwardPagesReturnTheLastMatchesBelowBeforeInAscendingOrder) {
  ExporterStack stack;
  fill(stack, 5000, 100);
  SearchReply r = search(stack, "q=needle&limit=3&before=1000");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.lineNos, (std::vector<uint64_t>{700, 800, 900}));
  EXPECT_EQ(r.json->getValue<uint64_t>("nextBefore"), 700u);
  EXPECT_FALSE(r.json->getValue<bool>("done"));
  std::vector<uint64_t> all;
  uint64_t before = 1000;
  for (int i = 0; i < 20; ++i) {
    SearchReply p = search(stack, "q=needle&limit=4&before=" + std::to_string(before));
    ASSERT_EQ(p.status, 200);
    all.insert(all.begin(), p.lineNos.begin(), p.lineNos.end());
    before = p.json->getValue<uint64_t>("nextBefore");
    if (p.json->getValue<bool>("done")) break;
  }
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all.front(), 100u);
  EXPECT_EQ(all.back(), 900u);
}

TEST(LogSearchTest, ARequestScansABoundedNumberOfLinesAndSaysWhereToContinue) {
  ExporterStack stack;
  fill(stack, zc::exporters::kMaxScanLines + 20000, 1u << 30);  // no match
  SearchReply r = search(stack, "q=absent");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.lineNos.empty());
  EXPECT_FALSE(r.json->getValue<bool>("done"));
  EXPECT_EQ(r.json->getValue<uint64_t>("scanned"), zc::exporters::kMaxScanLines);
  EXPECT_EQ(r.json->getValue<uint64_t>("nextSince"), zc::exporters::kMaxScanLines);
  SearchReply rest = search(stack, "q=absent&since=" + std::to_string(zc::exporters::kMaxScanLines));
  EXPECT_TRUE(rest.json->getValue<bool>("done"));
  EXPECT_EQ(rest.json->getValue<uint64_t>("scanned"), 20000u);
}

TEST(LogSearchTest, RegexAndStreamFilterAndBadPatterns) {
  ExporterStack stack;
  stack.api->addDeployment("d");
  stack.api->appendLines("d", {"GET /a 200", "GET /b 500", "POST /c 503"});
  stack.api->appendLines("d", {"error: disk 5xx"}, zc::LogStream::kStderr);
  stack.api->appendLines("d", {"[CRASH] exit=1 oom=false"}, zc::LogStream::kSystem);

  SearchReply re = search(stack, "q=%5E(get%7Cpost)%20%2F.%205%5Cd%5Cd%24&regex=1");  // ^(get|post) /. 5\d\d$
  ASSERT_EQ(re.status, 200);
  EXPECT_EQ(re.lineNos, (std::vector<uint64_t>{2, 3}));

  SearchReply streams = search(stack, "stream=stderr,system");
  EXPECT_EQ(streams.lineNos, (std::vector<uint64_t>{4, 5}));
  SearchReply both = search(stack, "q=5&stream=stdout");
  EXPECT_EQ(both.lineNos, (std::vector<uint64_t>{2, 3}));

  SearchReply bad = search(stack, "q=(unclosed&regex=1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json->getValue<std::string>("error"), "invalid_pattern");
  EXPECT_NE(bad.json->getValue<std::string>("message").find("missing )"), std::string::npos)
      << bad.json->getValue<std::string>("message");

  for (std::string q : {"regex=1", "q=", "stream=stdin", "q=a&since=1&before=2", "before=0",
                        "fromTs=yesterday", "q=a&q=b", "regex=maybe&q=a"}) {
    SearchReply r = search(stack, q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_EQ(r.json->getValue<std::string>("error"), "invalid_parameter") << q;
  }
  SearchReply tooLong = search(stack, "q=" + std::string(zc::exporters::kMaxSearchPatternBytes + 1, 'a'));
  EXPECT_EQ(tooLong.status, 400);
}

TEST(LogSearchTest, FromTsLandsOnTheFirstLineAtOrAfterThatTime) {
  ExporterStack stack;
  stack.api->addDeployment("d");
  std::vector<zc::TimeNs> firstTs;
  for (int b = 0; b < 6; ++b) {
    auto lines = stack.api->appendNumbered("d", 100);
    firstTs.push_back(lines.front().ts);
    std::this_thread::sleep_for(20ms);
  }
  // The fourth batch (lines 301..400): its first line's time, in whole milliseconds (below it,
  // above the third batch's).
  zc::TimeNs ms = firstTs[3] / 1'000'000;
  HttpReply r = httpRequest(stack.port(), "GET",
                            "/api/deployments/d/logs?limit=2&fromTs=" + std::to_string(ms));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"lineNo\":301"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"lineNo\":300,"), std::string::npos) << r.body;
  // After the last line: an empty page that continues with new lines.
  HttpReply late = httpRequest(stack.port(), "GET",
                               "/api/deployments/d/logs?fromTs=" + std::to_string(ms + 3600'000));
  ASSERT_EQ(late.status, 200);
  EXPECT_NE(late.body.find("\"lines\":[]"), std::string::npos) << late.body;
  EXPECT_NE(late.body.find("\"nextSince\":600"), std::string::npos) << late.body;
  // Before the first line: the whole log from its start.
  HttpReply early = httpRequest(stack.port(), "GET", "/api/deployments/d/logs?limit=1&fromTs=0");
  EXPECT_NE(early.body.find("\"lineNo\":1,"), std::string::npos) << early.body;
}

}  // namespace
