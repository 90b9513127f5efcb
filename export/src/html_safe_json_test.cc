#include "html_safe_json.h"

#include <gtest/gtest.h>

namespace heapsnap::report {
namespace {

TEST(HtmlSafeJson, NothingInAStringCanEndTheScriptBlock) {
  HtmlSafeJson j;
  j.BeginObject().Key("t").String("</script><!-- & \xE2\x80\xA8\xE2\x80\xA9 \"q\" \\").EndObject();
  EXPECT_EQ(j.text(),
            "{\"t\":\"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029 \\\"q\\\" \\\\\"}");
  EXPECT_EQ(j.text().find_first_of("<>&"), std::string::npos);
}

TEST(HtmlSafeJson, ControlsAndBytesThatAreNotUtf8AreEscaped) {
  HtmlSafeJson j;
  j.BeginArray()
      .String(std::string("a\x01\x7f\n\xff", 5))
      .String("\xC2\x85")
      .String("é")
      .EndArray();
  EXPECT_EQ(j.text(), "[\"a\\u0001\\u007f\\n\\ufffd\",\"\\u0085\",\"é\"]");
}

TEST(HtmlSafeJson, NumbersAndNesting) {
  HtmlSafeJson j;
  j.BeginObject().Key("a").BeginArray().Uint(1).Int(-2).Bool(true).Null().EndArray();
  j.Key("b").Double(1.5).EndObject();
  EXPECT_EQ(j.text(), "{\"a\":[1,-2,true,null],\"b\":1.5}");
}

TEST(HtmlEscape, MarkupCharactersBecomeReferences) {
  EXPECT_EQ(HtmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape(std::string("a\nb\xff", 4)), "a b\xEF\xBF\xBD");
}

}  // namespace
}  // namespace heapsnap::report
