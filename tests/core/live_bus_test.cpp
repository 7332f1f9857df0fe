// Contract (zc/host/live_bus.h): the lines callback runs after every published batch of any
// deployment, subscribed to or not, and not after an empty one; an empty callback removes it.
#include "zc/host/live_bus.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace zc::host {
namespace {

LineBatch batchOf(size_t n) {
  return std::make_shared<const std::vector<LogLine>>(n, LogLine{"d", 1, LogStream::kStdout, 1, "x", false});
}

TEST(LiveBusTest, TheLinesCallbackRunsAfterEveryNonEmptyBatchOfAnyDeployment) {
  LiveBus bus;
  int calls = 0;
  bus.setLinesCallback([&] { ++calls; });
  bus.publishLines("nobody-listens", batchOf(2));
  bus.publishLines("other", batchOf(1));
  bus.publishLines("other", batchOf(0));
  bus.publishLines("other", nullptr);
  bus.publishStatus("other", DeploymentStatus::kRunning);
  EXPECT_EQ(calls, 2);
  bus.setLinesCallback(nullptr);
  bus.publishLines("other", batchOf(1));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace zc::host
