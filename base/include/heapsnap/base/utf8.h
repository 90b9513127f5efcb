// UTF-8 as every writer of untrusted text checks it (the JSON writer, the terminal-safe
// streams): which bytes start a valid sequence, how long it is, and the escapes for what is not
// printed as is. One rule: no overlong forms, no surrogates, nothing above U+10FFFF.
#ifndef HEAPSNAP_BASE_UTF8_H_
#define HEAPSNAP_BASE_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "heapsnap/base/hex.h"

namespace heapsnap {

// What a lead byte starts: the sequence's length (0: no valid sequence starts with it) and the
// bounds of its second byte (the others are any continuation byte, 0x80..0xBF).
struct Utf8Lead {
  int length;
  unsigned char second_min;
  unsigned char second_max;
};

constexpr Utf8Lead Utf8LeadOf(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c >= 0xE0 && c <= 0xEF) {
    return {3, static_cast<unsigned char>(c == 0xE0 ? 0xA0 : 0x80),  // no overlong forms
            static_cast<unsigned char>(c == 0xED ? 0x9F : 0xBF)};    // no surrogates
  }
  if (c >= 0xF0 && c <= 0xF4) {
    return {4, static_cast<unsigned char>(c == 0xF0 ? 0x90 : 0x80),
            static_cast<unsigned char>(c == 0xF4 ? 0x8F : 0xBF)};  // nothing above U+10FFFF
  }
  return {0, 0, 0};
}

// The length of the valid UTF-8 sequence at s[i], or 0 if there is none.
inline size_t Utf8SequenceAt(std::string_view s, size_t i) {
  const Utf8Lead lead = Utf8LeadOf(static_cast<unsigned char>(s[i]));
  const auto n = static_cast<size_t>(lead.length);
  if (n == 0 || i + n > s.size()) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < lead.second_min || second > lead.second_max) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Whether a two-byte sequence is a C1 control (U+0080..U+009F), which terminals obey.
constexpr bool IsC1Control(unsigned char lead, unsigned char second) {
  return lead == 0xC2 && second < 0xA0;
}

// Appends "\u00NN" for a code point below U+0100 (a control character, escaped in JSON and for
// terminals alike).
inline void AppendControlEscape(unsigned char code, std::string* out) {
  const char escape[6] = {'\\', 'u', '0', '0', kHexDigits[code >> 4], kHexDigits[code & 15]};
  out->append(escape, 6);
}

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_UTF8_H_
