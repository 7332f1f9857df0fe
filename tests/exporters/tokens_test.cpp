// The tokens file format, hashing, constant-time verification and reload (zc/exporters/tokens.h).
#include "zc/exporters/tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

#include "test_support.h"

namespace zc::testing {
namespace {

using exporters::TokenRecord;
using exporters::TokenScope;

std::string hashOf(char c) {
  return std::string(64, c);
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

TEST(TokensTest, GeneratedTokensAreLongHexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto t = exporters::generateToken();
    ASSERT_TRUE(t.isOk());
    EXPECT_EQ(t->size(), 4u + 64u);  // 256 bits
    EXPECT_EQ(t->rfind("zct_", 0), 0u);
    EXPECT_TRUE(seen.insert(*t).second);
  }
}

TEST(TokensTest, Sha256MatchesAKnownVector) {
  EXPECT_EQ(exporters::sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TokensTest, FormatAndParseRoundTrip) {
  std::vector<TokenRecord> in = {{"ci", TokenScope::kOperate, hashOf('a')},
                                 {"grafana.ro", TokenScope::kRead, hashOf('b')}};
  auto out = exporters::parseTokens(exporters::formatTokens(in));
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].name, "ci");
  EXPECT_EQ((*out)[0].scope, TokenScope::kOperate);
  EXPECT_EQ((*out)[1].sha256Hex, hashOf('b'));
}

TEST(TokensTest, CommentsAndBlankLinesAreIgnored) {
  auto out = exporters::parseTokens("# header\n\n   \nci read " + hashOf('c') + "\r\n");
  ASSERT_TRUE(out.isOk()) << out.status().toString();
  EXPECT_EQ(out->size(), 1u);
}

TEST(TokensTest, EachBadLineIsOneClearError) {
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"ci read\n", "line 1: expected"},
      {"ci read " + hashOf('a') + " extra\n", "line 1: expected"},
      {"# c\nci admin " + hashOf('a') + "\n", "line 2: scope 'admin' is not read or operate"},
      {"c/i read " + hashOf('a') + "\n", "line 1: token name 'c/i'"},
      {"ci read ABC\n", "line 1: the hash is not 64 lower-case hex digits"},
      {"ci read " + hashOf('A') + "\n", "line 1: the hash is not 64"},
      {"ci read " + hashOf('a') + "\nci operate " + hashOf('b') + "\n",
       "line 2: token name 'ci' appears twice"},
  };
  for (const auto& c : cases) {
    auto out = exporters::parseTokens(c.text);
    ASSERT_FALSE(out.isOk()) << c.text;
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(out.status().message().find(c.expect), std::string::npos) << out.status().message();
    EXPECT_EQ(out.status().message().find('\n'), std::string::npos);
  }
}

TEST(TokensTest, WriteIsMode0600AndHoldsOnlyHashes) {
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  auto secret = exporters::generateToken();
  ASSERT_TRUE(secret.isOk());
  ASSERT_TRUE(
      exporters::writeTokensFile(path, {{"ci", TokenScope::kRead, exporters::sha256Hex(*secret)}})
          .isOk());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(*secret), std::string::npos);
  EXPECT_EQ(text.find(secret->substr(4)), std::string::npos);
  EXPECT_NE(text.find(exporters::sha256Hex(*secret)), std::string::npos);
}

TEST(TokensTest, ReadingAMissingFileIsNotFound) {
  TempDir dir;
  auto r = exporters::readTokensFile(dir.path() + "/none");
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(TokenStoreTest, VerifyFindsTheRightTokenAndRejectsNearMisses) {
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  const std::string a = "zct_aaaa", b = "zct_bbbb";
  ASSERT_TRUE(
      exporters::writeTokensFile(path, {{"a", TokenScope::kRead, exporters::sha256Hex(a)},
                                        {"b", TokenScope::kOperate, exporters::sha256Hex(b)}})
          .isOk());
  exporters::TokenStore store(path);
  ASSERT_TRUE(store.reload().isOk());
  auto ida = store.verify(a);
  ASSERT_TRUE(ida.has_value());
  EXPECT_EQ(ida->name, "a");
  EXPECT_EQ(ida->scope, TokenScope::kRead);
  EXPECT_EQ(store.verify(b)->scope, TokenScope::kOperate);
  EXPECT_FALSE(store.verify("zct_aaab").has_value());
  EXPECT_FALSE(store.verify("").has_value());
  // A stored hash presented as a token is not the token.
  EXPECT_FALSE(store.verify(exporters::sha256Hex(a)).has_value());
}

// Verification compares every stored hash whole: the time of a wrong token does not depend on
// how many of its hash's leading bytes match a stored one. Measured as the ratio of medians over
// many rounds, which is robust to scheduling noise on a shared machine.
TEST(TokenStoreTest, VerifyTimeDoesNotDependOnAMatchingPrefix) {
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  std::vector<TokenRecord> records;
  for (int i = 0; i < 64; ++i) {
    records.push_back({"t" + std::to_string(i), TokenScope::kRead,
                       exporters::sha256Hex("secret-" + std::to_string(i))});
  }
  ASSERT_TRUE(exporters::writeTokensFile(path, records).isOk());
  exporters::TokenStore store(path);
  ASSERT_TRUE(store.reload().isOk());
  // Find a wrong token whose hash shares its first byte with the first stored hash, and one
  // that shares none; the comparison must not exit early on either.
  std::string sharing, distinct;
  for (int i = 0; i < 100000 && (sharing.empty() || distinct.empty()); ++i) {
    std::string t = "probe-" + std::to_string(i);
    std::string h = exporters::sha256Hex(t);
    if (h.compare(0, 2, records[0].sha256Hex, 0, 2) == 0) {
      if (sharing.empty()) sharing = t;
    } else if (h[0] != records[0].sha256Hex[0] && distinct.empty()) {
      distinct = t;
    }
  }
  ASSERT_FALSE(sharing.empty());
  // Rounds alternate between the two tokens, so drift in machine load hits both alike.
  auto timeOf = [&](const std::string& token) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < 20; ++k) EXPECT_FALSE(store.verify(token).has_value());
    return (std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<int64_t> sa, sb;
  for (int round = 0; round < 301; ++round) {
    sa.push_back(timeOf(sharing));
    sb.push_back(timeOf(distinct));
  }
  auto median = [](std::vector<int64_t>& v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return static_cast<double>(v[v.size() / 2]);
  };
  double a = median(sa), b = median(sb);
  EXPECT_LT(std::max(a, b) / std::min(a, b), 2.0) << a << " vs " << b;
}

TEST(TokenStoreTest, ABadReloadKeepsThePreviousTokens) {
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  ASSERT_TRUE(
      exporters::writeTokensFile(path, {{"a", TokenScope::kRead, exporters::sha256Hex("x")}})
          .isOk());
  exporters::TokenStore store(path);
  ASSERT_TRUE(store.reload().isOk());
  writeText(path, "garbage line\n");
  Status st = store.reloadIfChanged();
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("line 1"), std::string::npos);
  EXPECT_TRUE(store.verify("x").has_value());
  EXPECT_TRUE(store.reloadIfChanged().isOk());  // unchanged since: not reported again
  ASSERT_TRUE(exporters::writeTokensFile(path, {}).isOk());
  EXPECT_TRUE(store.reloadIfChanged().isOk());
  EXPECT_FALSE(store.verify("x").has_value());
}

}  // namespace
}  // namespace zc::testing
