#include "json.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace heapsnap::cli {
namespace {

std::string Json(std::string_view text) {
  std::ostringstream out;
  JsonWriter(out).String(text);
  return out.str();
}

TEST(JsonWriter, ArraysOfValuesAreSeparatedLikeAnyOther) {
  std::ostringstream out;
  JsonWriter j(out);
  j.BeginObject();
  j.Key("path").StringArray({"sys", ".x"});
  j.Key("none").StringArray({});
  j.Key("counts").UintArray({1, 2, 3});
  j.EndObject();
  EXPECT_EQ(out.str(), "{\"path\":[\"sys\",\".x\"],\"none\":[],\"counts\":[1,2,3]}");
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Json("line\nend\t\x01"), "\"line\\nend\\t\\u0001\"");
}

// Nothing in the output can drive a terminal, not even through a pager that shows JSON raw:
// DEL and the C1 controls (CSI is U+009B) are escaped as well.
TEST(JsonWriter, EscapesDeleteAndC1Controls) {
  EXPECT_EQ(Json("a\x7f"), "\"a\\u007f\"");
  EXPECT_EQ(Json("\xc2\x9b"
                 "31m"),
            "\"\\u009b31m\"");
  EXPECT_EQ(Json("\xc2\xa0"), "\"\xc2\xa0\"");  // U+00A0 is text
}

TEST(JsonWriter, PassesUtf8Through) {
  EXPECT_EQ(Json("h\xc3\xa9"), "\"h\xc3\xa9\"");                // U+00E9
  EXPECT_EQ(Json("\xe4\xb8\xad"), "\"\xe4\xb8\xad\"");          // U+4E2D
  EXPECT_EQ(Json("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");  // U+1F600
  EXPECT_EQ(Json("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");          // U+FFFF
  EXPECT_EQ(Json("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"");  // U+10FFFF
}

// Snapshots are untrusted and bytes previews are raw: whatever a string holds, the output
// stays valid UTF-8 (each byte that starts no valid sequence becomes U+FFFD).
TEST(JsonWriter, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(Json("\x80"), "\"\\ufffd\"");  // a lone continuation
  EXPECT_EQ(Json("a\xff"
                 "b"),
            "\"a\\ufffdb\"");                                               // never in UTF-8
  EXPECT_EQ(Json("\xc3"), "\"\\ufffd\"");                                   // cut short at the end
  EXPECT_EQ(Json("\xc3z"), "\"\\ufffdz\"");                                 // cut short mid-string
  EXPECT_EQ(Json("\xc0\xaf"), "\"\\ufffd\\ufffd\"");                        // overlong '/'
  EXPECT_EQ(Json("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"");             // overlong, 3 bytes
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");             // a surrogate
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  // > U+10FFFF
}

}  // namespace
}  // namespace heapsnap::cli
