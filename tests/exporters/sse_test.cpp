// SSE log streams: framing and headers, start positions, the storage -> live hand-over with
// lines arriving during the backfill, resume after forced disconnects and past the end (reset),
// a stalled client, the cap, `event: end`, and streams not holding REST worker threads.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <thread>

#include "exporter_fixture.h"
#include "test_support.h"

namespace {

using namespace std::chrono_literals;
using zc::testing::ExporterStack;
using zc::testing::SseClient;
using zc::testing::SseEvent;

Poco::JSON::Object::Ptr parseObject(const std::string& body) {
  Poco::JSON::Parser p;
  return p.parse(body).extract<Poco::JSON::Object::Ptr>();
}

zc::exporters::ExporterOptions fastOptions() {
  zc::exporters::ExporterOptions o;
  o.sse.heartbeatMs = 200;
  return o;
}

// Hands each event to `done` until it returns true (then true), the stream ends or `timeout`
// passes (then false).
bool readEvents(SseClient& c, std::chrono::milliseconds timeout,
                const std::function<bool(const SseEvent&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto ev = c.next(100);
    if (!ev) {
      if (c.eof()) break;
      continue;
    }
    if (done(*ev)) return true;
  }
  return false;
}

// Reads log events until one with id >= `until` arrives; returns the ids in order.
std::vector<uint64_t> readLogIdsUntil(SseClient& c, uint64_t until,
                                      std::chrono::milliseconds timeout) {
  std::vector<uint64_t> ids;
  readEvents(c, timeout, [&](const SseEvent& ev) {
    if (ev.event != "log") return false;
    ids.push_back(std::stoull(ev.id));
    return ids.back() >= until;
  });
  return ids;
}

void expectContiguous(const std::vector<uint64_t>& ids, uint64_t first, uint64_t last) {
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), first);
  EXPECT_EQ(ids.back(), last);
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], ids[i - 1] + 1) << "gap or duplicate at index " << i;
  }
}

TEST(SseTest, HeadersRetryStatusEventsAndHeartbeat) {
  ExporterStack stack(fastOptions());
  stack.api->addDeployment("d1");
  stack.api->appendLines("d1", {"one", "two", "three"});
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  ASSERT_EQ(c.status(), 200);
  EXPECT_EQ(c.head().header("content-type"), "text/event-stream");
  EXPECT_EQ(c.head().header("cache-control"), "no-cache");
  EXPECT_EQ(c.head().header("x-accel-buffering"), "no");
  auto ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(c.rawBody().rfind("retry: 2000\n", 0), 0u) << c.rawBody();
  EXPECT_EQ(c.retry(), "2000");
  EXPECT_EQ(ev->event, "status");
  EXPECT_EQ(ev->data, R"({"status":"running"})");
  for (uint64_t i = 1; i <= 3; ++i) {
    ev = c.next();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->event, "log");
    EXPECT_EQ(ev->id, std::to_string(i));
    auto o = parseObject(ev->data);
    EXPECT_EQ(o->getValue<uint64_t>("lineNo"), i);
    EXPECT_EQ(o->getValue<std::string>("stream"), "stdout");
    EXPECT_TRUE(o->has("ts"));
  }
  stack.api->appendLines("d1", {"four"});
  ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->id, "4");
  EXPECT_EQ(parseObject(ev->data)->getValue<std::string>("text"), "four");
  stack.api->setStatus("d1", zc::DeploymentStatus::kUnhealthy);
  ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->event, "status");
  EXPECT_EQ(ev->data, R"({"status":"unhealthy"})");
  EXPECT_FALSE(c.next(700));  // nothing but heartbeats
  EXPECT_GE(c.comments(), 2u);
}

TEST(SseTest, DefaultStartIsTheLast500Lines) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  for (int i = 0; i < 8; ++i) stack.api->appendNumbered("d1", 100);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  auto ids = readLogIdsUntil(c, 800, 10s);
  expectContiguous(ids, 301, 800);
}

TEST(SseTest, LastEventIdWinsOverSince) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 50);
  SseClient a;
  ASSERT_TRUE(a.open(stack.port(), "/api/deployments/d1/logs/stream?since=10", uint64_t{40}));
  expectContiguous(readLogIdsUntil(a, 50, 10s), 41, 50);
  SseClient b;
  ASSERT_TRUE(b.open(stack.port(), "/api/deployments/d1/logs/stream?since=10"));
  expectContiguous(readLogIdsUntil(b, 50, 10s), 11, 50);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream?after=0"));
  expectContiguous(readLogIdsUntil(c, 50, 10s), 1, 50);
}

// Reads events until one named `name` (a log event first is a failure); nullopt on timeout.
std::optional<SseEvent> waitForEvent(SseClient& c, const std::string& name,
                                     std::chrono::milliseconds timeout) {
  std::optional<SseEvent> found;
  readEvents(c, timeout, [&](const SseEvent& ev) {
    EXPECT_NE(ev.event, "log") << "id " << ev.id;
    if (ev.event == name) found = ev;
    return found.has_value();
  });
  return found;
}

// A position past the last stored line (the store was replaced, e.g. --storage memory after a
// restart) is answered with a reset to the last lineNo at once, then live lines follow.
TEST(SseTest, ResumePastTheEndGetsAResetThenLiveLines) {
  ExporterStack stack(fastOptions());
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 20);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream", uint64_t{1000000}));
  auto reset = waitForEvent(c, "reset", 2s);
  ASSERT_TRUE(reset) << c.rawBody();
  EXPECT_EQ(reset->data, R"({"lastLineNo":20})");
  EXPECT_EQ(reset->id, "20");  // a reconnect resumes from there
  stack.api->appendLines("d1", {"after the reset"});
  EXPECT_EQ(readLogIdsUntil(c, 21, 5s), (std::vector<uint64_t>{21}));

  SseClient bySince;
  ASSERT_TRUE(bySince.open(stack.port(), "/api/deployments/d1/logs/stream?since=500"));
  reset = waitForEvent(bySince, "reset", 2s);
  ASSERT_TRUE(reset) << bySince.rawBody();
  EXPECT_EQ(reset->data, R"({"lastLineNo":21})");

  stack.api->addDeployment("empty");
  SseClient empty;
  ASSERT_TRUE(empty.open(stack.port(), "/api/deployments/empty/logs/stream", uint64_t{7}));
  reset = waitForEvent(empty, "reset", 2s);
  ASSERT_TRUE(reset) << empty.rawBody();
  EXPECT_EQ(reset->data, R"({"lastLineNo":0})");
  stack.api->appendLines("empty", {"first"});
  EXPECT_EQ(readLogIdsUntil(empty, 1, 5s), (std::vector<uint64_t>{1}));
}

// A position at the last stored line is no reset: the stream simply waits for new lines.
TEST(SseTest, ResumeAtTheEndIsNoReset) {
  ExporterStack stack(fastOptions());
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 5);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream", uint64_t{5}));
  stack.api->appendLines("d1", {"six"});
  EXPECT_EQ(readLogIdsUntil(c, 6, 5s), (std::vector<uint64_t>{6}));
  EXPECT_EQ(c.rawBody().find("event: reset"), std::string::npos) << c.rawBody();
}

// Reads `event: lines` events until one ends at `until`; returns every line's lineNo in order.
// Each event's id must be the lineNo of its last line, and no `event: log` may come.
std::vector<uint64_t> readBatchedIdsUntil(SseClient& c, uint64_t until,
                                          std::chrono::milliseconds timeout, size_t* events) {
  std::vector<uint64_t> ids;
  readEvents(c, timeout, [&](const SseEvent& ev) {
    EXPECT_NE(ev.event, "log");
    if (ev.event != "lines") return false;
    Poco::JSON::Parser p;
    auto lines = p.parse(ev.data).extract<Poco::JSON::Array::Ptr>();
    EXPECT_GT(lines->size(), 0u);
    EXPECT_LE(lines->size(), 1000u);
    for (size_t i = 0; i < lines->size(); ++i) {
      ids.push_back(lines->getObject(static_cast<unsigned>(i))->getValue<uint64_t>("lineNo"));
    }
    EXPECT_EQ(ev.id, std::to_string(ids.back()));
    if (events) ++*events;
    return ids.back() >= until;
  });
  return ids;
}

// ?batch=1: the backfill and the live lines come as runs (at most 1,000 lines each) whose id is
// the last lineNo, so a resume with that id continues exactly after the run.
TEST(SseTest, BatchedStreamSendsRunsOfLinesAndResumesAfterTheLastId) {
  ExporterStack stack(fastOptions());
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 2500);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream?batch=1&since=0"));
  ASSERT_EQ(c.status(), 200);
  size_t events = 0;
  auto ids = readBatchedIdsUntil(c, 2500, 10s, &events);
  expectContiguous(ids, 1, 2500);
  EXPECT_GE(events, 3u);
  EXPECT_LE(events, 40u);
  for (int i = 0; i < 5; ++i) stack.api->appendNumbered("d1", 300);
  ids = readBatchedIdsUntil(c, 4000, 10s, nullptr);
  expectContiguous(ids, 2501, 4000);

  SseClient resumed;
  ASSERT_TRUE(resumed.open(stack.port(), "/api/deployments/d1/logs/stream?batch=true",
                           uint64_t{3333}));
  ids = readBatchedIdsUntil(resumed, 4000, 10s, nullptr);
  expectContiguous(ids, 3334, 4000);

  for (const char* bad : {"?batch=yes", "?batch=1&batch=0", "?batch="}) {
    SseClient refused;
    ASSERT_TRUE(refused.open(stack.port(), std::string("/api/deployments/d1/logs/stream") + bad));
    EXPECT_EQ(refused.status(), 400) << bad;
  }
}

// The backfill reads storage bounded in bytes as well as lines: lines of 200 KiB come in reads
// of a couple of lines each, and a read cut short by its bytes does not end the catch-up.
TEST(SseTest, BackfillOfLongLinesIsReadInByteBoundedPagesWithoutEndingEarly) {
  ExporterStack stack(fastOptions());
  stack.api->addDeployment("d1");
  std::vector<std::string> lines;
  for (int i = 0; i < 20; ++i) lines.push_back(std::string(200 * 1024, static_cast<char>('a' + i)));
  stack.api->appendLines("d1", lines);
  stack.api->appendLines("d1", {"short"});
  const uint64_t readsBefore = stack.api->readLogsCalls();
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream?since=0"));
  auto ids = readLogIdsUntil(c, 21, 10s);
  expectContiguous(ids, 1, 21);
  EXPECT_GE(stack.api->readLogsCalls() - readsBefore, 10u);  // ~256 KiB of text per read
}

TEST(SseTest, LineBreaksNeverReachADataField) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  stack.api->appendLines("d1", {"a\r\nb\rc\nd \xFF"});
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  auto ids = readLogIdsUntil(c, 1, 5s);
  ASSERT_EQ(ids.size(), 1u);
  const std::string& raw = c.rawBody();
  size_t d = raw.find("event: log\nid: 1\ndata: ");
  ASSERT_NE(d, std::string::npos) << raw;
  size_t end = raw.find("\n\n", d);
  std::string dataLine = raw.substr(d + 23, end - d - 23);
  EXPECT_EQ(dataLine.find('\r'), std::string::npos);
  EXPECT_EQ(dataLine.find('\n'), std::string::npos);
  EXPECT_TRUE(zc::testing::isValidUtf8(raw));
  EXPECT_EQ(parseObject(dataLine)->getValue<std::string>("text"), "a\r\nb\rc\nd \xEF\xBF\xBD");
}

TEST(SseTest, HandOverFromBackfillToLiveHasNoGapAndNoDuplicate) {
  zc::exporters::ExporterOptions opts;
  opts.sse.backfillChunk = 16;  // many storage reads per backfill: wide hand-over windows
  ExporterStack stack(opts);
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 700);
  // Every storage read is slow, so batches are committed and published while it runs.
  stack.api->setReadHook([] { std::this_thread::sleep_for(300us); });
  constexpr uint64_t kTotal = 4000;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::mt19937 rng(7);
    uint64_t written = 700;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (written < kTotal && !stop && std::chrono::steady_clock::now() < deadline) {
      size_t n = std::min<uint64_t>(1 + rng() % 5, kTotal - written);
      stack.api->appendNumbered("d1", n);
      written += n;
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 800));
    }
  });
  struct Client {
    std::unique_ptr<SseClient> c;
    std::optional<uint64_t> since;
    uint64_t first = 0;
  };
  std::vector<Client> clients;
  for (int i = 0; i < 12; ++i) {
    Client cl;
    cl.c = std::make_unique<SseClient>();
    std::string target = "/api/deployments/d1/logs/stream";
    if (i % 3 == 1) target += "?since=" + std::to_string(i * 37);
    if (i % 3 == 2) target += "?since=0";
    ASSERT_TRUE(cl.c->open(stack.port(), target));
    ASSERT_EQ(cl.c->status(), 200);
    clients.push_back(std::move(cl));
    std::this_thread::sleep_for(40ms);
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    auto ids = readLogIdsUntil(*clients[i].c, kTotal, 40s);
    ASSERT_FALSE(ids.empty()) << "client " << i;
    EXPECT_EQ(ids.back(), kTotal) << "client " << i;
    if (i % 3 == 1) {
      EXPECT_EQ(ids.front(), i * 37 + 1);
    } else if (i % 3 == 2) {
      EXPECT_EQ(ids.front(), 1u);
    }
    expectContiguous(ids, ids.front(), kTotal);
  }
  stop = true;
  writer.join();
  // Live batches did arrive while backfills ran: the overlap was really exercised.
  EXPECT_GT(stack.exp->sseHub().stats().overlapSkipped, 0u);
}

// Streams are spread over the hub threads in turn; each gets every line once, in order, whatever
// the number of threads.
TEST(SseTest, StreamsOnEveryHubThreadGetEveryLine) {
  for (size_t threads : {size_t{1}, size_t{3}}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    zc::exporters::ExporterOptions opts;
    opts.sse.threads = threads;
    ExporterStack stack(opts);
    stack.api->addDeployment("d1");
    stack.api->appendNumbered("d1", 10);
    std::vector<std::unique_ptr<SseClient>> clients;
    for (int i = 0; i < 7; ++i) {
      clients.push_back(std::make_unique<SseClient>());
      ASSERT_TRUE(clients.back()->open(stack.port(), "/api/deployments/d1/logs/stream?since=0"));
      ASSERT_EQ(clients.back()->status(), 200);
    }
    ASSERT_TRUE(zc::testing::waitFor([&] { return stack.exp->sseHub().stats().clients == 7; },
                                     5s, 10ms));
    for (int b = 0; b < 40; ++b) stack.api->appendNumbered("d1", 5);
    for (size_t i = 0; i < clients.size(); ++i) {
      auto ids = readLogIdsUntil(*clients[i], 210, 20s);
      expectContiguous(ids, 1, 210);
    }
  }
}

TEST(SseTest, ResumeAfter100ForcedDisconnectsGivesAContiguousSequence) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> written{0};
  std::thread writer([&] {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!stop && std::chrono::steady_clock::now() < deadline && written < 200000) {
      stack.api->appendNumbered("d1", 3);
      written += 3;
      std::this_thread::sleep_for(1ms);
    }
  });
  std::vector<uint64_t> all;
  std::optional<uint64_t> last;
  for (int round = 0; round < 100; ++round) {
    SseClient c;
    ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream?since=0", last)) << round;
    ASSERT_EQ(c.status(), 200) << round;
    size_t want = 1 + static_cast<size_t>(round % 25);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    size_t got = 0;
    while (got < want && std::chrono::steady_clock::now() < deadline) {
      auto ev = c.next(500);
      if (!ev || ev->event != "log") continue;
      all.push_back(std::stoull(ev->id));
      last = all.back();
      ++got;
    }
    c.close();  // forced disconnect in the middle of the stream
  }
  stop = true;
  writer.join();
  uint64_t total = written.load();
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream", last));
  auto rest = readLogIdsUntil(c, total, 30s);
  all.insert(all.end(), rest.begin(), rest.end());
  expectContiguous(all, 1, total);
}

TEST(SseTest, StalledClientIsCutOffWhileNormalClientsContinue) {
  zc::exporters::ExporterOptions opts;
  opts.sse.maxPendingLines = 2000;
  opts.sse.stallTimeoutMs = 60000;  // the inbox bound must be what cuts it off
  ExporterStack stack(opts);
  stack.api->addDeployment("d1");
  SseClient stalled;
  ASSERT_TRUE(stalled.open(stack.port(), "/api/deployments/d1/logs/stream", std::nullopt, 4096));
  SseClient normal;
  ASSERT_TRUE(normal.open(stack.port(), "/api/deployments/d1/logs/stream"));
  constexpr uint64_t kTotal = 30000;
  const std::string pad(120, 'x');
  std::thread writer([&] {
    // 20,000 lines/s: a reading client keeps up, a stalled one overflows its 2,000-line inbox.
    for (uint64_t done = 0; done < kTotal; done += 100) {
      stack.api->appendGenerated("d1", 100,
                                 [&](size_t, uint64_t no) { return std::to_string(no) + pad; });
      std::this_thread::sleep_for(5ms);
    }
  });
  auto ids = readLogIdsUntil(normal, kTotal, 60s);
  writer.join();
  expectContiguous(ids, 1, kTotal);
  ASSERT_TRUE(
      zc::testing::waitFor([&] { return stack.exp->sseHub().stats().droppedSlow >= 1; }, 10s));
  EXPECT_EQ(stack.exp->sseHub().stats().clients, 1u);
  // The stalled client finds its stream closed once it reads what was buffered.
  auto rest = stalled.drain(5000);
  EXPECT_TRUE(stalled.eof());
  EXPECT_LT(rest.size(), kTotal);
}

TEST(SseTest, StreamsBeyondTheCapGet503WithRetryAfter) {
  zc::exporters::ExporterOptions opts;
  opts.sse.maxClients = 3;
  ExporterStack stack(opts);
  stack.api->addDeployment("d1");
  std::vector<std::unique_ptr<SseClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(open.back()->open(stack.port(), "/api/deployments/d1/logs/stream"));
    ASSERT_EQ(open.back()->status(), 200);
  }
  SseClient over;
  ASSERT_TRUE(over.open(stack.port(), "/api/deployments/d1/logs/stream"));
  EXPECT_EQ(over.status(), 503);
  EXPECT_EQ(over.head().header("retry-after"), "2");
  EXPECT_NE(over.head().header("content-type").find("application/json"), std::string::npos);
  EXPECT_EQ(parseObject(over.head().body)->getValue<std::string>("error"), "too_many_streams");
  open.front()->close();
  ASSERT_TRUE(zc::testing::waitFor([&] { return stack.exp->sseHub().stats().clients == 2; }, 5s));
  SseClient again;
  ASSERT_TRUE(again.open(stack.port(), "/api/deployments/d1/logs/stream"));
  EXPECT_EQ(again.status(), 200);
  EXPECT_GE(stack.exp->sseHub().stats().rejected, 1u);
}

// One client (here: one address, no tokens) cannot take the hub's slots: beyond
// maxStreamsPerClient it gets 503 + Retry-After while the hub still has room, and a slot comes
// back when one of its streams closes.
TEST(SseTest, StreamsBeyondThePerClientCapGet503WithRetryAfter) {
  zc::exporters::ExporterOptions opts;
  opts.sse.maxStreamsPerClient = 2;
  ExporterStack stack(opts);
  stack.api->addDeployment("d1");
  auto a = std::make_unique<SseClient>();
  SseClient b;
  ASSERT_TRUE(a->open(stack.port(), "/api/deployments/d1/logs/stream"));
  ASSERT_TRUE(b.open(stack.port(), "/api/deployments/d1/logs/stream"));
  ASSERT_EQ(a->status(), 200);
  ASSERT_EQ(b.status(), 200);
  SseClient third;
  ASSERT_TRUE(third.open(stack.port(), "/api/deployments/d1/logs/stream"));
  EXPECT_EQ(third.status(), 503);
  EXPECT_EQ(third.head().header("retry-after"), "2");
  EXPECT_EQ(parseObject(third.head().body)->getValue<std::string>("error"),
            "too_many_streams_for_client");
  EXPECT_EQ(stack.exp->sseHub().stats().rejected, 1u);

  a.reset();  // closes its connection: the hub notices and gives the slot back
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    SseClient again;
    ASSERT_TRUE(again.open(stack.port(), "/api/deployments/d1/logs/stream"));
    reopened = again.status() == 200;
    if (!reopened) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(reopened);
}

TEST(SseTest, EndEventAfterTeardownThenClose) {
  ExporterStack stack;
  stack.api->addDeployment("d1");
  stack.api->appendNumbered("d1", 5);
  SseClient c;
  ASSERT_TRUE(c.open(stack.port(), "/api/deployments/d1/logs/stream"));
  expectContiguous(readLogIdsUntil(c, 5, 5s), 1, 5);
  EXPECT_EQ(zc::testing::httpRequest(stack.port(), "DELETE", "/api/deployments/d1").status, 202);
  auto ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->event, "status");
  EXPECT_EQ(ev->data, R"({"status":"stopped"})");
  stack.api->appendLines("d1", {"[STOP] container removed"}, zc::LogStream::kSystem);
  stack.api->completeTeardown("d1");
  ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->event, "log");
  EXPECT_EQ(ev->id, "6");
  ev = c.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->event, "end");
  EXPECT_FALSE(c.next(3000));
  EXPECT_TRUE(c.eof());
  // A client arriving after the teardown gets the backfill, then the end.
  SseClient late;
  ASSERT_TRUE(late.open(stack.port(), "/api/deployments/d1/logs/stream?since=4"));
  auto evs = late.drain(3000);
  ASSERT_GE(evs.size(), 4u);
  EXPECT_EQ(evs[0].event, "status");
  EXPECT_EQ(evs[1].id, "5");
  EXPECT_EQ(evs[2].id, "6");
  EXPECT_EQ(evs.back().event, "end");
  EXPECT_TRUE(late.eof());
  EXPECT_EQ(stack.exp->sseHub().stats().ended, 2u);
}

TEST(SseTest, OpenStreamsDoNotHoldRestWorkers) {
  zc::exporters::HttpServerOptions http;
  http.maxThreads = 2;
  zc::exporters::ExporterOptions opts;
  opts.sse.maxStreamsPerClient = 64;
  ExporterStack stack(opts, http);
  stack.api->addDeployment("d1");
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 40; ++i) {
    streams.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(streams.back()->open(stack.port(), "/api/deployments/d1/logs/stream"));
    ASSERT_EQ(streams.back()->status(), 200);
  }
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(zc::testing::httpRequest(stack.port(), "GET", "/api/deployments").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  stack.api->appendNumbered("d1", 3);
  for (auto& s : streams) expectContiguous(readLogIdsUntil(*s, 3, 5s), 1, 3);
  EXPECT_EQ(stack.exp->sseHub().stats().clients, 40u);
}

}  // namespace
