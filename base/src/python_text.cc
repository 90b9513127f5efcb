#include "heapsnap/base/python_text.h"

#include <algorithm>

#include "heapsnap/base/hex.h"

namespace heapsnap {

bool IsIdentifier(std::string_view text) {
  if (text.empty()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

size_t Utf8PrefixBytes(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a continuation
  return n;
}

void FinishQuotedKey(std::string* out, size_t body, bool truncated) {
  auto needs_escape = [](char c) {
    return c == '\'' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
  };
  const auto begin = out->begin() + static_cast<std::ptrdiff_t>(body);
  if (std::any_of(begin, out->end(), needs_escape)) {
    const std::string text = out->substr(body);
    out->resize(body);
    for (char c : text) {
      if (c == '\'' || c == '\\') out->push_back('\\');
      if (static_cast<unsigned char>(c) < 0x20) {
        AppendHexEscape(static_cast<unsigned char>(c), out);
      } else {
        out->push_back(c);
      }
    }
  }
  if (truncated) out->append("...");
  out->push_back('\'');
}

}  // namespace heapsnap
