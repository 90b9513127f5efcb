#include "heapsnap/format/types.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace heapsnap {
namespace {

TEST(Types, FormatsLabelsAsPeopleWriteThem) {
  std::vector<std::string> strings = {"", "cache", "'ada'", "limit"};
  auto s = [&](StringId id) -> const std::string& { return strings[id.value()]; };
  EXPECT_EQ(FormatLabel(LabelKind::kAttribute, 1, s), ".cache");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKey, 2, s), "['ada']");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyInt, ZigZagEncode(-3), s), "[-3]");
  EXPECT_EQ(FormatLabel(LabelKind::kIndex, 7, s), "[7]");
  EXPECT_EQ(FormatLabel(LabelKind::kClosureVariable, 1, s), "<closure cache>");
  EXPECT_EQ(FormatLabel(LabelKind::kParameterDefault, 3, s), "<default limit=>");
  EXPECT_EQ(FormatLabel(LabelKind::kTraverseIndex, 4, s), "<tp_traverse#4>");
  const std::string key = "'ada'";
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyRef, ZigZagEncode(3), s, &key), "['ada']");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeySelf, 0, s, &key), "<key 'ada'>");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyRef, ZigZagEncode(3), s), "[?]");
}

TEST(Types, EscapesBytesAsPythonShowsThem) {
  EXPECT_EQ(EscapeBytes("abc 012"), "abc 012");
  EXPECT_EQ(EscapeBytes(std::string("\x80\xff'A\\\x00z\n", 8)), "\\x80\\xff'A\\\\\\x00z\\x0a");
  EXPECT_EQ(EscapeBytes(""), "");
}

TEST(Types, QuotesKeyPreviewsAsTheCaptureQuotesKeys) {
  EXPECT_EQ(QuoteKeyPreview("ada", 3), "'ada'");
  EXPECT_EQ(QuoteKeyPreview("", 0), "''");
  EXPECT_EQ(QuoteKeyPreview("it's", 4), "'it\\'s'");
  EXPECT_EQ(QuoteKeyPreview("a\\b", 3), "'a\\\\b'");
  EXPECT_EQ(QuoteKeyPreview("line\nbreak\x7f", 11), "'line\\x0abreak\x7f'");
  // At most 80 bytes, never half a character; "..." when cut here or by the preview.
  EXPECT_EQ(QuoteKeyPreview(std::string(80, 'x'), 80), "'" + std::string(80, 'x') + "'");
  EXPECT_EQ(QuoteKeyPreview(std::string(100, 'x'), 200), "'" + std::string(80, 'x') + "...'");
  EXPECT_EQ(QuoteKeyPreview(std::string(50, 'x'), 51), "'" + std::string(50, 'x') + "...'");
  std::string wide;
  for (int i = 0; i < 30; ++i) wide += "\xe4\xb8\xad";  // U+4E2D, 3 bytes
  EXPECT_EQ(QuoteKeyPreview(wide, 30), "'" + wide.substr(0, 78) + "...'");
  std::string accents;
  for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";  // U+00E9, 2 bytes
  EXPECT_EQ(QuoteKeyPreview(accents, 50), "'" + accents.substr(0, 80) + "...'");
  EXPECT_EQ(QuoteKeyPreview(accents.substr(0, 20), 10), "'" + accents.substr(0, 20) + "'");
}

}  // namespace
}  // namespace heapsnap
