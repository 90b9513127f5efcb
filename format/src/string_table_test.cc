#include "string_table.h"

#include <string>

#include "gtest/gtest.h"

namespace heapsnap::writer_internal {
namespace {

TEST(StringTable, NumbersStringsInOrderOfFirstSight) {
  StringTable t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Intern("b"), 1u);
  EXPECT_EQ(t.Intern("a"), 2u);
  EXPECT_EQ(t.Intern("b"), 1u);
  EXPECT_EQ(t.Intern(""), 3u);  // the empty string is a string like any other
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.Get(1), "b");
  EXPECT_EQ(t.Get(2), "a");
  EXPECT_EQ(t.Get(3), "");
}

TEST(StringTable, KeepsEveryStringThroughGrowth) {
  StringTable t;
  for (uint32_t i = 0; i < 100000; ++i) {
    ASSERT_EQ(t.Intern("key-" + std::to_string(i)), i + 1);
  }
  for (uint32_t i = 0; i < 100000; i += 997) {
    EXPECT_EQ(t.Intern("key-" + std::to_string(i)), i + 1);
    EXPECT_EQ(t.Get(i + 1), "key-" + std::to_string(i));
  }
  // Strings that differ only after a NUL are different strings.
  EXPECT_NE(t.Intern(std::string("x\0a", 3)), t.Intern(std::string("x\0b", 3)));
}

}  // namespace
}  // namespace heapsnap::writer_internal
