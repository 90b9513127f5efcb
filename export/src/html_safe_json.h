// JSON for embedding in an HTML page: a `<script type="application/json">` block holds it, and
// the page's script reads it with JSON.parse. Text from a snapshot is untrusted, so besides what
// JSON needs (quotes, backslashes, control characters; bytes that are not UTF-8 become U+FFFD)
// every `<`, `>` and `&` is written as \u003c, \u003e, \u0026 (no `</script>` or `<!--` can end
// or change the block) and U+2028/U+2029 as \u2028/\u2029 (line terminators to older
// JavaScript). The output is therefore plain ASCII outside of string contents and contains none
// of `<>&`: the block's text is inert HTML whatever the snapshot holds.
#ifndef HEAPSNAP_EXPORT_SRC_HTML_SAFE_JSON_H_
#define HEAPSNAP_EXPORT_SRC_HTML_SAFE_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace heapsnap::report {

class HtmlSafeJson {
 public:
  HtmlSafeJson& BeginObject();
  HtmlSafeJson& EndObject();
  HtmlSafeJson& BeginArray();
  HtmlSafeJson& EndArray();
  HtmlSafeJson& Key(std::string_view key);
  HtmlSafeJson& String(std::string_view value);
  HtmlSafeJson& Uint(uint64_t value);
  HtmlSafeJson& Int(int64_t value);
  HtmlSafeJson& Double(double value);  // null when not finite
  HtmlSafeJson& Bool(bool value);
  HtmlSafeJson& Null();

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  void WriteString(std::string_view s);

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// `text` with &, <, >, " and ' written as character references: for the few places the page's
// HTML itself carries snapshot text (its <title>).
std::string HtmlEscape(std::string_view text);

}  // namespace heapsnap::report

#endif  // HEAPSNAP_EXPORT_SRC_HTML_SAFE_JSON_H_
