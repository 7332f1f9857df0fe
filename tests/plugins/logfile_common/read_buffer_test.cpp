// ReadBuffer: bytes are consumed from the front, room is added behind them, and shrinkToFit()
// keeps exactly the bytes held.
#include "read_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace zc::logfile {
namespace {

void append(ReadBuffer& b, const std::string& s) {
  std::memcpy(b.room(s.size()), s.data(), s.size());
  b.commit(s.size());
}

TEST(ReadBufferTest, HoldsWhatWasCommittedAndDropsWhatWasConsumed) {
  ReadBuffer b;
  EXPECT_TRUE(b.empty());
  append(b, "one\ntwo\n");
  EXPECT_EQ(b.view(), "one\ntwo\n");
  b.consume(4);
  EXPECT_EQ(b.view(), "two\n");
  b.consume(100);  // more than held: all of it
  EXPECT_TRUE(b.empty());
}

TEST(ReadBufferTest, RoomKeepsTheUnconsumedBytesAndOnlyTheCommittedOnesCount) {
  ReadBuffer b;
  append(b, "partial line, then ");
  b.consume(8);
  char* at = b.room(1 << 20);  // grows: the held bytes move with it
  ASSERT_GE(b.capacity(), b.size() + (1u << 20));
  std::memcpy(at, "more\n", 5);
  b.commit(5);  // the rest of the room was never written and is not held
  EXPECT_EQ(b.view(), "line, then more\n");
}

TEST(ReadBufferTest, ShrinkToFitKeepsOnlyTheHeldBytes) {
  ReadBuffer b;
  b.room(256 * 1024);
  b.commit(0);
  append(b, "done\npending");
  b.consume(5);
  b.shrinkToFit();
  EXPECT_EQ(b.capacity(), b.size());
  EXPECT_EQ(b.view(), "pending");
  b.consume(7);
  b.shrinkToFit();
  EXPECT_EQ(b.capacity(), 0u);
  append(b, "again");
  EXPECT_EQ(b.view(), "again");
}

}  // namespace
}  // namespace zc::logfile
