// A small streaming JSON writer for the CLI's --json output (stable contracts, see README).
#ifndef HEAPSNAP_CLI_JSON_H_
#define HEAPSNAP_CLI_JSON_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

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
    for (unsigned char c : s) {
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
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ << buf;
          } else {
            out_ << c;  // UTF-8 passes through; the capture writes valid UTF-8
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
