#include "junit.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "output_file.h"

namespace heapsnap::cli {
namespace {

TEST(JUnit, CountsAndOutcomes) {
  const std::string xml = JUnitXml(
      "heapsnap check app.heapsnap",
      {{"heapsnap.check", "growth", JUnitCase::Outcome::kFailed, "1 group grew", "path: x\n"},
       {"heapsnap.check", "max-unreachable", JUnitCase::Outcome::kPassed, "", ""},
       {"heapsnap.known_retention", "abc re", JUnitCase::Outcome::kSkipped, "known", ""}});
  EXPECT_NE(xml.find("<testsuite name=\"heapsnap check app.heapsnap\" tests=\"3\" failures=\"1\" "
                     "errors=\"0\" skipped=\"1\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"heapsnap.check\" name=\"max-unreachable\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"1 group grew\" type=\"leak\">path: x\n</failure>"),
            std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"known\"/>"), std::string::npos);
}

TEST(JUnit, UntrustedTextCannotBreakTheXml) {
  EXPECT_EQ(XmlEscape("a['<k>'] & \"q\""), "a[&apos;&lt;k&gt;&apos;] &amp; &quot;q&quot;");
  // Controls XML 1.0 cannot hold, and bytes that are not UTF-8, become U+FFFD.
  EXPECT_EQ(XmlEscape(std::string("x\x01y\x1b", 4)), "x\xEF\xBF\xBDy\xEF\xBF\xBD");
  EXPECT_EQ(XmlEscape("\xff\xc3\xa9\ttab"), "\xEF\xBF\xBD\xC3\xA9\ttab");
  EXPECT_EQ(XmlEscape("</failure>]]>"), "&lt;/failure&gt;]]&gt;");
}

TEST(OutputFile, WritesWholeFilesOrNothing) {
  const std::string dir = ::testing::TempDir() + "/heapsnap_output_file_test";
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/report.xml";
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second, longer").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "second, longer");
  const Status missing = WriteFileAtomically(dir + "/no/such/dir/report.xml", "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no/such/dir/report.xml"), std::string::npos);
}

}  // namespace
}  // namespace heapsnap::cli
