#include "terminal_safe.h"

#include <sstream>

#include "gtest/gtest.h"

namespace heapsnap::cli {
namespace {

TEST(TerminalSafe, EscapesControlCharacters) {
  EXPECT_EQ(TerminalSafe("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(TerminalSafe("a\rb\x7f"), "a\\x0db\\x7f");
  EXPECT_EQ(TerminalSafe("line\n\tnext\n"), "line\n\tnext\n");
}

TEST(TerminalSafe, EscapesC1ControlsAndInvalidUtf8) {
  EXPECT_EQ(TerminalSafe("\xc2\x9b"
                         "31m"),
            "\\u009b31m");                              // CSI as U+009B
  EXPECT_EQ(TerminalSafe("\x9b"), "\\x9b");             // a lone continuation byte
  EXPECT_EQ(TerminalSafe("\xe2\x82"), "\\xe2\\x82");    // cut short at the end
  EXPECT_EQ(TerminalSafe("\xe2\x82x"), "\\xe2\\x82x");  // cut short in the middle
  EXPECT_EQ(TerminalSafe("\xff"), "\\xff");
}

TEST(TerminalSafe, KeepsUtf8Text) {
  EXPECT_EQ(TerminalSafe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d");
  EXPECT_EQ(TerminalSafe("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is not a control
}

TEST(TerminalSafe, SequencesSplitAcrossWritesStayWhole) {
  std::string out_text;
  {
    std::ostringstream out;
    TerminalSafeBuffer safe(out.rdbuf());
    std::ostream stream(&safe);
    stream << "\xe2" << std::flush << "\x82"
           << "\xac"
           << "\x1b";
    stream.flush();
    out_text = out.str();
  }
  EXPECT_EQ(out_text, "\xe2\x82\xac\\x1b");
}

TEST(TerminalSafe, InvalidUtf8IsEscapedByTheSameRuleAsJson) {
  // An overlong form and a surrogate are not UTF-8 (JsonWriter writes U+FFFD for them).
  EXPECT_EQ(TerminalSafe("a\xc0\xaf"
                         "b"),
            "a\\xc0\\xafb");
  EXPECT_EQ(TerminalSafe("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(TerminalSafe("\xe2\x82\xac"), "\xe2\x82\xac");  // a valid one passes
}

}  // namespace
}  // namespace heapsnap::cli
