// ClaimBook (collector/src/claims.h): one container holds a deployment; the one named zynd-<id>
// first, then the oldest, whatever order they are seen in; the others are conflicts.
#include "claims.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace zc::collector {
namespace {

plugin::ContainerInfo claimant(std::string id, std::string name, TimeNs created,
                               std::string deployment = "dep") {
  plugin::ContainerInfo c;
  c.containerId = std::move(id);
  c.name = std::move(name);
  c.createdAt = created;
  c.deploymentId = std::move(deployment);
  return c;
}

TEST(ClaimBookTest, TheNamedContainerWinsInEitherOrder) {
  auto named = claimant("bbb", "zynd-dep", 200);
  auto labelled = claimant("aaa", "other", 100);  // older, lower id: still loses
  for (bool namedFirst : {true, false}) {
    ClaimBook book;
    std::string displaced;
    if (namedFirst) {
      EXPECT_TRUE(book.admit(named));
      EXPECT_FALSE(book.admit(labelled));
    } else {
      EXPECT_TRUE(book.admit(labelled));
      EXPECT_TRUE(book.admit(named, &displaced));
      EXPECT_EQ(displaced, "aaa");
      EXPECT_FALSE(book.admit(labelled));  // stays refused
    }
    EXPECT_TRUE(book.admit(named));  // the holder again: still true
    EXPECT_TRUE(book.refused("aaa"));
    EXPECT_FALSE(book.refused("bbb"));
    auto conflicts = book.conflicts(10);
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].containerId, "aaa");
    EXPECT_EQ(conflicts[0].containerName, "other");
    EXPECT_EQ(conflicts[0].deploymentId, "dep");
    EXPECT_EQ(conflicts[0].reason, "deployment dep is held by the container named zynd-dep (bbb)");
  }
}

TEST(ClaimBookTest, WithoutANamedOneTheOldestKeepsIt) {
  auto older = claimant("ccc", "first", 100);
  auto newer = claimant("aaa", "second", 200);
  auto sameTime = claimant("bbb", "third", 100);
  EXPECT_TRUE(ClaimBook::outranks(older, newer));
  EXPECT_TRUE(ClaimBook::outranks(sameTime, older));  // same Created: the lower id
  ClaimBook book;
  EXPECT_TRUE(book.admit(newer));
  EXPECT_TRUE(book.admit(older));
  EXPECT_TRUE(book.admit(sameTime));
  EXPECT_FALSE(book.admit(newer));
  EXPECT_FALSE(book.admit(older));
  auto conflicts = book.conflicts(10);
  ASSERT_EQ(conflicts.size(), 2u);
  EXPECT_EQ(conflicts[0].containerId, "aaa");
  EXPECT_EQ(conflicts[1].containerId, "ccc");
  EXPECT_EQ(conflicts[1].reason, "deployment dep is held by the older container third (bbb)");
  EXPECT_EQ(book.conflicts(1).size(), 1u);  // bounded
}

TEST(ClaimBookTest, ReleasedHoldersLetTheNextClaimantIn) {
  ClaimBook book;
  EXPECT_TRUE(book.admit(claimant("aaa", "zynd-dep", 100)));
  EXPECT_FALSE(book.admit(claimant("bbb", "other", 50)));
  book.release("aaa");
  EXPECT_TRUE(book.admit(claimant("bbb", "other", 50)));
  EXPECT_TRUE(book.conflicts(10).empty());
  // A listing without a container forgets it, holder or conflict: bbb is not listed, so ccc,
  // listed and refused until now, takes the deployment.
  EXPECT_FALSE(book.admit(claimant("ccc", "late", 60)));
  book.retainOnly({"ccc"});
  EXPECT_EQ(book.conflicts(10).size(), 1u);
  EXPECT_TRUE(book.admit(claimant("ccc", "late", 60)));
  EXPECT_TRUE(book.conflicts(10).empty());
  book.admit(claimant("ddd", "later", 70));
  book.retainOnly({"ccc"});
  EXPECT_TRUE(book.conflicts(10).empty());  // ddd is gone
}

TEST(ClaimBookTest, DeploymentsAreIndependent) {
  ClaimBook book;
  EXPECT_TRUE(book.admit(claimant("aaa", "zynd-one", 1, "one")));
  EXPECT_TRUE(book.admit(claimant("bbb", "zynd-two", 1, "two")));
  EXPECT_TRUE(book.conflicts(10).empty());
}

}  // namespace
}  // namespace zc::collector
