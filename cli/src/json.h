// A small streaming JSON writer for the CLI's --json output (stable contracts, see README).
#ifndef HEAPSNAP_CLI_JSON_H_
#define HEAPSNAP_CLI_JSON_H_

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/utf8.h"

namespace heapsnap::cli {

class JsonWriter {
 public:
  explicit JsonWriter(std::ostream& out) : out_(out) {}

  JsonWriter& BeginObject() {
    Separate();
    out_ << '{';
    first_.push_back(true);
    return *this;
  }
  JsonWriter& EndObject() {
    out_ << '}';
    first_.pop_back();
    return *this;
  }
  JsonWriter& BeginArray() {
    Separate();
    out_ << '[';
    first_.push_back(true);
    return *this;
  }
  JsonWriter& EndArray() {
    out_ << ']';
    first_.pop_back();
    return *this;
  }
  JsonWriter& Key(std::string_view key) {
    Separate();
    WriteString(key);
    out_ << ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view v) {
    Separate();
    WriteString(v);
    return *this;
  }
  JsonWriter& Uint(uint64_t v) {
    Separate();
    out_ << v;
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Separate();
    out_ << v;
    return *this;
  }
  // Finite numbers only (JSON has no NaN or infinity): those are written as null.
  JsonWriter& Double(double v) {
    Separate();
    if (!std::isfinite(v)) {
      out_ << "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", v);
      out_ << buf;
    }
    return *this;
  }
  // Arrays of plain values, in one call.
  JsonWriter& StringArray(const std::vector<std::string>& values) {
    BeginArray();
    for (const std::string& v : values) String(v);
    return EndArray();
  }
  JsonWriter& UintArray(const std::vector<uint64_t>& values) {
    BeginArray();
    for (uint64_t v : values) Uint(v);
    return EndArray();
  }
  JsonWriter& Bool(bool v) {
    Separate();
    out_ << (v ? "true" : "false");
    return *this;
  }
  JsonWriter& Null() {
    Separate();
    out_ << "null";
    return *this;
  }

 private:
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ << ',';
      first_.back() = false;
    }
  }
  void WriteString(std::string_view s) {
    out_ << '"';
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x80) {
        // A snapshot is untrusted: its strings may hold any bytes, and JSON output must stay
        // valid UTF-8.
        const size_t n = Utf8SequenceAt(s, i);
        if (n == 0) {
          out_ << "\\ufffd";  // not UTF-8: the replacement character
        } else if (n == 2 && IsC1Control(c, static_cast<unsigned char>(s[i + 1]))) {
          // C1 controls (U+0080..U+009F) are escaped too: no output can drive a terminal.
          std::string escaped;
          AppendControlEscape(static_cast<unsigned char>(s[i + 1]), &escaped);
          out_ << escaped;
          ++i;
        } else {
          out_.write(s.data() + i, static_cast<std::streamsize>(n));
          i += n - 1;
        }
        continue;
      }
      switch (c) {
        case '"':
          out_ << "\\\"";
          break;
        case '\\':
          out_ << "\\\\";
          break;
        case '\n':
          out_ << "\\n";
          break;
        case '\r':
          out_ << "\\r";
          break;
        case '\t':
          out_ << "\\t";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            std::string escaped;
            AppendControlEscape(c, &escaped);
            out_ << escaped;
          } else {
            out_ << static_cast<char>(c);
          }
      }
    }
    out_ << '"';
  }

  std::ostream& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_JSON_H_
