#include "html_safe_json.h"

#include <cmath>
#include <cstdio>

#include "heapsnap/base/utf8.h"

namespace heapsnap::report {

HtmlSafeJson& HtmlSafeJson::BeginObject() {
  Separate();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

HtmlSafeJson& HtmlSafeJson::EndObject() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

HtmlSafeJson& HtmlSafeJson::BeginArray() {
  Separate();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

HtmlSafeJson& HtmlSafeJson::EndArray() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Key(std::string_view key) {
  Separate();
  WriteString(key);
  out_ += ':';
  after_key_ = true;
  return *this;
}

HtmlSafeJson& HtmlSafeJson::String(std::string_view value) {
  Separate();
  WriteString(value);
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Uint(uint64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Int(int64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Double(double value) {
  Separate();
  if (!std::isfinite(value)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", value);
  out_ += buf;
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Bool(bool value) {
  Separate();
  out_ += value ? "true" : "false";
  return *this;
}

HtmlSafeJson& HtmlSafeJson::Null() {
  Separate();
  out_ += "null";
  return *this;
}

void HtmlSafeJson::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

void HtmlSafeJson::WriteString(std::string_view s) {
  out_ += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceAt(s, i);
      if (n == 0) {
        out_ += "\\ufffd";
      } else if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                 (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                  static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
        out_ += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
        i += 2;
      } else if (n == 2 && IsC1Control(c, static_cast<unsigned char>(s[i + 1]))) {
        AppendControlEscape(static_cast<unsigned char>(s[i + 1]), &out_);
        ++i;
      } else {
        out_.append(s.data() + i, n);
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\t':
        out_ += "\\t";
        break;
      case '<':
        out_ += "\\u003c";
        break;
      case '>':
        out_ += "\\u003e";
        break;
      case '&':
        out_ += "\\u0026";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          AppendControlEscape(c, &out_);
        } else {
          out_ += static_cast<char>(c);
        }
    }
  }
  out_ += '"';
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (c >= 0x80) {
          const size_t n = Utf8SequenceAt(text, i);
          if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD: the page is UTF-8
          } else {
            out.append(text.data() + i, n);
            i += n - 1;
          }
        } else if (c < 0x20 || c == 0x7f) {
          out += ' ';
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace heapsnap::report
