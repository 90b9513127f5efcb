// Hexadecimal text: object addresses as Python's id() shows them in hex ("0x7f3a2c1e0b40"),
// and the "\xNN" escape that every writer of untrusted bytes uses.
#ifndef HEAPSNAP_BASE_HEX_H_
#define HEAPSNAP_BASE_HEX_H_

#include <cstdint>
#include <string>

namespace heapsnap {

constexpr char kHexDigits[] = "0123456789abcdef";

// "0x" and the address in lower-case hex, without leading zeros ("0x0" for 0).
std::string FormatAddress(uint64_t address);

// Appends "\xNN" for the byte c.
inline void AppendHexEscape(unsigned char c, std::string* out) {
  const char escape[4] = {'\\', 'x', kHexDigits[c >> 4], kHexDigits[c & 15]};
  out->append(escape, 4);
}

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_HEX_H_
