#include "heapsnap/base/python_text.h"

#include <gtest/gtest.h>

namespace heapsnap {
namespace {

std::string Quote(std::string_view text, bool truncated = false) {
  std::string out = "'";
  out.append(text);
  FinishQuotedKey(&out, 1, truncated);
  return out;
}

TEST(PythonText, IdentifiersFollowPythonsRule) {
  EXPECT_TRUE(IsIdentifier("ada"));
  EXPECT_TRUE(IsIdentifier("_private2"));
  EXPECT_TRUE(IsIdentifier("caf\xc3\xa9"));  // non-ASCII letters are Python identifiers
  EXPECT_FALSE(IsIdentifier(""));
  EXPECT_FALSE(IsIdentifier("2fast"));
  EXPECT_FALSE(IsIdentifier("a-b"));
  EXPECT_FALSE(IsIdentifier("with space"));
}

TEST(PythonText, QuotesKeysAsPythonsRepr) {
  EXPECT_EQ(Quote("ada"), "'ada'");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(Quote("it's"), "'it\\'s'");
  EXPECT_EQ(Quote("a\\b"), "'a\\\\b'");
  EXPECT_EQ(Quote("line\nbreak\x7f"), "'line\\x0abreak\x7f'");
  EXPECT_EQ(Quote("cut", /*truncated=*/true), "'cut...'");
}

TEST(PythonText, KeyPrefixNeverCutsACharacter) {
  EXPECT_EQ(KeyPrefixBytes(std::string(80, 'x')), 80u);
  EXPECT_EQ(KeyPrefixBytes(std::string(100, 'x')), kMaxKeyBytes);
  std::string wide;
  for (int i = 0; i < 30; ++i) wide += "\xe2\x82\xac";  // 3 bytes each: 80 is not a boundary
  EXPECT_EQ(KeyPrefixBytes(wide), 78u);
}

}  // namespace
}  // namespace heapsnap
