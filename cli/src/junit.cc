#include "junit.h"

#include "heapsnap/base/utf8.h"

namespace heapsnap::cli {

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '&':
        out += "&amp;";
        continue;
      case '<':
        out += "&lt;";
        continue;
      case '>':
        out += "&gt;";
        continue;
      case '"':
        out += "&quot;";
        continue;
      case '\'':
        out += "&apos;";
        continue;
      default:
        break;
    }
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += "\xEF\xBF\xBD";  // XML 1.0 has no way to write these
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      const size_t n = Utf8SequenceAt(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";
      } else {
        out.append(s.data() + i, n);
        i += n - 1;
      }
    }
  }
  return out;
}

std::string JUnitXml(const std::string& suite, const std::vector<JUnitCase>& cases) {
  size_t failures = 0;
  size_t skipped = 0;
  for (const JUnitCase& c : cases) {
    failures += c.outcome == JUnitCase::Outcome::kFailed;
    skipped += c.outcome == JUnitCase::Outcome::kSkipped;
  }
  const std::string counts = " tests=\"" + std::to_string(cases.size()) + "\" failures=\"" +
                             std::to_string(failures) + "\" errors=\"0\" skipped=\"" +
                             std::to_string(skipped) + "\"";
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"heapsnap\"" + counts + ">\n";
  out += "  <testsuite name=\"" + XmlEscape(suite) + "\"" + counts + ">\n";
  for (const JUnitCase& c : cases) {
    out += "    <testcase classname=\"" + XmlEscape(c.classname) + "\" name=\"" +
           XmlEscape(c.name) + "\"";
    switch (c.outcome) {
      case JUnitCase::Outcome::kPassed:
        out += "/>\n";
        break;
      case JUnitCase::Outcome::kFailed:
        out += ">\n      <failure message=\"" + XmlEscape(c.message) + "\" type=\"leak\">" +
               XmlEscape(c.text) + "</failure>\n    </testcase>\n";
        break;
      case JUnitCase::Outcome::kSkipped:
        out += ">\n      <skipped message=\"" + XmlEscape(c.message) + "\"/>\n    </testcase>\n";
        break;
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace heapsnap::cli
