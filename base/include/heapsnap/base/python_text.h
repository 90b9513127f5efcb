// Python's text rules, written once for both sides of the snapshot: the capture writes dict
// keys and names with them, the format renders previews with them, the analysis folds paths
// with them. So a key looks the same whether the capture quoted it or a reader did.
//
//   std::string out = "'";
//   out.append(utf8_text);
//   FinishQuotedKey(&out, 1, /*truncated=*/false);  // out is now Python's repr of the str
#ifndef HEAPSNAP_BASE_PYTHON_TEXT_H_
#define HEAPSNAP_BASE_PYTHON_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace heapsnap {

// A str key is shown with at most this many bytes of its UTF-8 text (never cutting a
// character in two), then "...".
constexpr size_t kMaxKeyBytes = 80;

// Whether text (UTF-8) reads as a Python identifier: a letter, '_' or any non-ASCII character
// first, then those or digits. Non-ASCII bytes are accepted as Python accepts letters of any
// script; the rare non-ASCII character that is not a letter is accepted too (the callers only
// choose how to show a name, never to run it).
bool IsIdentifier(std::string_view text);

// The number of bytes of text (UTF-8) to keep to show at most max_bytes of it: all of it when
// it fits, else max_bytes or fewer, so that no character is cut in two.
size_t Utf8PrefixBytes(std::string_view text, size_t max_bytes);

// The number of bytes of text to show as a key: Utf8PrefixBytes(text, kMaxKeyBytes).
inline size_t KeyPrefixBytes(std::string_view text) { return Utf8PrefixBytes(text, kMaxKeyBytes); }

// Turns (*out)[body..] (raw UTF-8 text of a str, preceded by an opening quote already in out)
// into the rest of a quoted key: ' and \ are escaped with a backslash, control characters as
// \xNN, "..." follows when the text was cut, then the closing quote.
void FinishQuotedKey(std::string* out, size_t body, bool truncated);

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_PYTHON_TEXT_H_
