// The Podman runtime's options: defaults, libpod's event names, bad values refused.
#include "podman_options.h"

#include <gtest/gtest.h>

namespace zc::podman {
namespace {

TEST(PodmanOptionsTest, DefaultsReadPodmansSocketAndCriPieces) {
  auto o = parsePodmanOptions({});
  ASSERT_TRUE(o.isOk()) << o.status().toString();
  EXPECT_EQ(o.value().socketPath, "/run/podman/podman.sock");
  EXPECT_EQ(o.value().follow.partialPieceBytes, 1u);  // every CRI P record is a piece
  EXPECT_EQ(o.value().cgroupRoot, "/sys/fs/cgroup");
  EXPECT_NE(o.value().events.filterBase.find("\"died\""), std::string::npos);
  EXPECT_NE(o.value().events.filterBase.find("\"remove\""), std::string::npos);
  EXPECT_EQ(o.value().events.engineName, "podman");
}

TEST(PodmanOptionsTest, SocketAndSelectLabelsAreTaken) {
  auto o = parsePodmanOptions({{"socket", "/tmp/p.sock"}, {"select_labels", "shard=a,x=y"}});
  ASSERT_TRUE(o.isOk()) << o.status().toString();
  EXPECT_EQ(o.value().socketPath, "/tmp/p.sock");
  EXPECT_EQ(o.value().events.selectLabels, (std::vector<std::string>{"shard=a", "x=y"}));
}

TEST(PodmanOptionsTest, BadValuesAreRefusedWithTheKey) {
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"socket", "relative.sock"},
           {"socket", "/" + std::string(120, 'a')},
           {"max_line_bytes", "10"},
           {"select_labels", "no-equals-sign"},
           {"nonsense", "1"},
           {"file_workers", "0"}}) {
    auto o = parsePodmanOptions({{k, v}});
    ASSERT_FALSE(o.isOk()) << k << "=" << v;
    EXPECT_EQ(o.status().code(), Status::Code::kInvalidArgument) << o.status().toString();
  }
}

}  // namespace
}  // namespace zc::podman
