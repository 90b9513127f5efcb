#include "heapsnap/base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace heapsnap {
namespace {

TEST(Utf8, ValidSequencesAndTheirLengths) {
  EXPECT_EQ(Utf8SequenceAt("\xc3\xa9", 0), 2u);          // é
  EXPECT_EQ(Utf8SequenceAt("\xe2\x82\xac", 0), 3u);      // €
  EXPECT_EQ(Utf8SequenceAt("\xf0\x9f\x98\x80", 0), 4u);  // an emoji
  EXPECT_EQ(Utf8SequenceAt("a\xc3\xa9", 1), 2u);
}

TEST(Utf8, RejectsOverlongsSurrogatesAndBeyondUnicode) {
  EXPECT_EQ(Utf8SequenceAt("\xc0\xaf", 0), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceAt("\xe0\x80\xaf", 0), 0u);      // overlong, three bytes
  EXPECT_EQ(Utf8SequenceAt("\xed\xa0\x80", 0), 0u);      // a surrogate
  EXPECT_EQ(Utf8SequenceAt("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceAt("\xe2\x82", 0), 0u);          // cut short
  EXPECT_EQ(Utf8SequenceAt("\x80", 0), 0u);              // a continuation byte alone
}

TEST(Utf8, C1ControlsAndTheirEscape) {
  EXPECT_TRUE(IsC1Control(0xC2, 0x9B));  // CSI
  EXPECT_FALSE(IsC1Control(0xC2, 0xA0));
  std::string out;
  AppendControlEscape(0x9b, &out);
  AppendControlEscape(0x1b, &out);
  EXPECT_EQ(out, "\\u009b\\u001b");
}

}  // namespace
}  // namespace heapsnap
