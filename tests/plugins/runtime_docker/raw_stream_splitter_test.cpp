#include "raw_stream_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "line_assembler.h"

namespace zc::docker {
namespace {

constexpr TimeNs kBase = 1'764'290'225'000'000'000;

std::string ts(TimeNs t) { return formatRfc3339Nano(t) + " "; }

std::vector<std::string> split(const std::string& stream, size_t step, size_t piece = 16 * 1024) {
  RawStreamSplitter s(piece);
  std::vector<std::string> out;
  auto sink = [&](const char* p, size_t n) {
    out.emplace_back(p, n);
    return true;
  };
  for (size_t pos = 0; pos < stream.size(); pos += step) {
    EXPECT_TRUE(s.feed(stream.data() + pos, std::min(step, stream.size() - pos), sink).isOk());
  }
  EXPECT_TRUE(s.finish(sink).isOk());
  return out;
}

TEST(RawStreamSplitterTest, TtyStreamAsTheEngineSendsIt) {
  // Verified against the engine: a 40,000-byte TTY line arrives as pieces of 16,384 bytes, each
  // with its own (here equal) timestamp, the last one ending "\r\n"; no frames.
  const std::string a1(16384, 'a'), a2(16384, 'a'), a3(40000 - 32768, 'a');
  std::string stream = ts(kBase) + a1 + ts(kBase) + a2 + ts(kBase) + a3 + "\r\n" +
                       ts(kBase + 1) + "short\r\n" + ts(kBase + 2) + "err\r\n" + ts(kBase + 3) +
                       "noeol";
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, stream.size()}) {
    auto msgs = split(stream, step);
    ASSERT_EQ(msgs.size(), 6u) << step;
    EXPECT_EQ(msgs[0], ts(kBase) + a1);
    EXPECT_EQ(msgs[2], ts(kBase) + a3 + "\r\n");
    EXPECT_EQ(msgs[3], ts(kBase + 1) + "short\r\n");
    EXPECT_EQ(msgs[5], ts(kBase + 3) + "noeol");

    LineAssembler la(LineAssembler::Options{});
    std::vector<plugin::RawLine> lines;
    for (const auto& m : msgs) ASSERT_TRUE(la.message(LogStream::kStdout, m.data(), m.size(), lines).isOk());
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].text, std::string(40000, 'a'));
    EXPECT_EQ(lines[0].ts, kBase);
    EXPECT_EQ(lines[1].text, "short");
    EXPECT_EQ(lines[2].text, "err");
    EXPECT_EQ(lines[3].text, "noeol");
  }
}

TEST(RawStreamSplitterTest, LastPieceOfARunEndsWhereALaterTimestampBegins) {
  // The container wrote "noeol" and exited; after a restart the next message follows directly.
  std::string stream = ts(kBase) + "noeol" + ts(kBase + 5) + "next run\r\n";
  auto msgs = split(stream, 3);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0], ts(kBase) + "noeol");
  EXPECT_EQ(msgs[1], ts(kBase + 5) + "next run\r\n");
}

TEST(RawStreamSplitterTest, EarlierTimestampInsideContentIsText) {
  // An application that prints engine-shaped timestamps of its own (earlier than the engine's).
  std::string content = "app says " + ts(kBase - 100) + "hello\r\n";
  std::string stream = ts(kBase) + content;
  auto msgs = split(stream, 5);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0], stream);
}

TEST(RawStreamSplitterTest, GarbageIsCorruption) {
  RawStreamSplitter s;
  std::string junk(100, 'x');
  auto sink = [](const char*, size_t) { return true; };
  EXPECT_EQ(s.feed(junk.data(), junk.size(), sink).code(), Status::Code::kCorruption);
}

TEST(RawStreamSplitterTest, SinkCanStopEarly) {
  std::string stream = ts(kBase) + "a\n" + ts(kBase) + "b\n" + ts(kBase) + "c\n";
  RawStreamSplitter s;
  int calls = 0;
  ASSERT_TRUE(s.feed(stream.data(), stream.size(), [&](const char*, size_t) { return ++calls < 2; }).isOk());
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(s.idle());
}

}  // namespace
}  // namespace zc::docker
