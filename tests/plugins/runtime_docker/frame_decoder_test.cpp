#include "frame_decoder.h"
#include "mux_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zc::docker {
namespace {

std::string frame(uint8_t stream, const std::string& payload) {
  return testing::muxFrame(stream, payload);
}

struct Got {
  int stream;
  std::string payload;
  bool operator==(const Got&) const = default;
};

Status feedAll(FrameDecoder& d, const std::string& bytes, std::vector<size_t> cuts,
               std::vector<Got>* out) {
  size_t pos = 0;
  cuts.push_back(bytes.size());
  for (size_t c : cuts) {
    Status st = d.feed(bytes.data() + pos, c - pos, [&](FrameStream s, const char* p, size_t n) {
      out->push_back({static_cast<int>(s), std::string(p, n)});
      return true;
    });
    if (!st.isOk()) return st;
    pos = c;
  }
  return Status::ok();
}

TEST(FrameDecoderTest, HeaderSplitAtEveryOffset) {
  std::string bytes = frame(1, "2026-01-01T00:00:00.000000001Z hello\n") + frame(2, "x\n");
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    FrameDecoder d(1024);
    std::vector<Got> got;
    ASSERT_TRUE(feedAll(d, bytes, {cut}, &got).isOk());
    ASSERT_EQ(got.size(), 2u) << cut;
    EXPECT_EQ(got[0], (Got{1, "2026-01-01T00:00:00.000000001Z hello\n"}));
    EXPECT_EQ(got[1], (Got{2, "x\n"}));
    EXPECT_TRUE(d.idle());
  }
}

TEST(FrameDecoderTest, OneByteAtATime) {
  std::string bytes = frame(1, "abc") + frame(2, std::string(300, 'z')) + frame(1, "");
  FrameDecoder d(1024);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < bytes.size(); ++i) cuts.push_back(i);
  std::vector<Got> got;
  ASSERT_TRUE(feedAll(d, bytes, cuts, &got).isOk());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (Got{1, "abc"}));
  EXPECT_EQ(got[1], (Got{2, std::string(300, 'z')}));
  EXPECT_EQ(got[2], (Got{1, ""}));
}

TEST(FrameDecoderTest, SeveralFramesInOneRead) {
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes += frame(1 + i % 2, "line " + std::to_string(i) + "\n");
  FrameDecoder d(1024);
  std::vector<Got> got;
  ASSERT_TRUE(feedAll(d, bytes, {}, &got).isOk());
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i], (Got{1 + i % 2, "line " + std::to_string(i) + "\n"}));
}

TEST(FrameDecoderTest, TruncatedFrameAtEofIsNotIdle) {
  std::string bytes = frame(1, "complete") + frame(1, "cut short").substr(0, 12);
  FrameDecoder d(1024);
  std::vector<Got> got;
  ASSERT_TRUE(feedAll(d, bytes, {}, &got).isOk());
  EXPECT_EQ(got.size(), 1u);
  EXPECT_FALSE(d.idle());
  // A header cut short too.
  FrameDecoder d2(1024);
  got.clear();
  ASSERT_TRUE(feedAll(d2, frame(1, "a").substr(0, 5), {}, &got).isOk());
  EXPECT_FALSE(d2.idle());
}

TEST(FrameDecoderTest, BogusStreamTypeIsAnError) {
  FrameDecoder d(1024);
  std::vector<Got> got;
  Status st = feedAll(d, frame(1, "ok") + frame(7, "bad"), {}, &got);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_EQ(got.size(), 1u);
  // Sticky.
  EXPECT_FALSE(feedAll(d, frame(1, "more"), {}, &got).isOk());
}

TEST(FrameDecoderTest, NonZeroPaddingIsAnError) {
  std::string f = frame(1, "x");
  f[2] = 1;
  FrameDecoder d(1024);
  std::vector<Got> got;
  EXPECT_EQ(feedAll(d, f, {}, &got).code(), Status::Code::kCorruption);
}

TEST(FrameDecoderTest, OversizeLengthIsAnError) {
  FrameDecoder d(100);
  std::vector<Got> got;
  EXPECT_TRUE(feedAll(d, frame(1, std::string(100, 'a')), {}, &got).isOk());
  Status st = feedAll(d, frame(1, std::string(101, 'a')), {}, &got);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  // A header claiming 4 GiB is refused before anything is buffered.
  FrameDecoder d2(100);
  std::string huge("\x01\0\0\0\xff\xff\xff\xff", 8);
  EXPECT_FALSE(feedAll(d2, huge, {}, &got).isOk());
}

TEST(FrameDecoderTest, EngineErrorFrameIsDelivered) {
  FrameDecoder d(1024);
  std::vector<Got> got;
  ASSERT_TRUE(feedAll(d, frame(3, "boom"), {}, &got).isOk());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].stream, 3);
}

TEST(FrameDecoderTest, SinkCanStopEarly) {
  std::string bytes = frame(1, "a") + frame(1, "b") + frame(1, "c");
  FrameDecoder d(1024);
  size_t consumed = 0;
  int calls = 0;
  ASSERT_TRUE(d.feed(bytes.data(), bytes.size(),
                     [&](FrameStream, const char*, size_t) { return ++calls < 2; }, &consumed)
                  .isOk());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(consumed, 18u);
}

}  // namespace
}  // namespace zc::docker
