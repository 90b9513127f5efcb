// JUnit XML, as CI systems (Jenkins, GitLab, GitHub's test reporters) display it: one
// <testsuite> of <testcase>s, each passed, failed (<failure message=...>text</failure>) or
// skipped (<skipped message=.../>). Text from a snapshot is untrusted: everything is escaped,
// and what XML 1.0 cannot hold (control characters, invalid UTF-8) is written as U+FFFD.
#ifndef HEAPSNAP_CLI_JUNIT_H_
#define HEAPSNAP_CLI_JUNIT_H_

#include <string>
#include <string_view>
#include <vector>

namespace heapsnap::cli {

struct JUnitCase {
  std::string classname;
  std::string name;
  enum class Outcome { kPassed, kFailed, kSkipped } outcome = Outcome::kPassed;
  std::string message;  // failed, skipped: one line
  std::string text;     // failed: the details
};

std::string JUnitXml(const std::string& suite, const std::vector<JUnitCase>& cases);

// `text` escaped for an XML attribute or text node.
std::string XmlEscape(std::string_view text);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_JUNIT_H_
