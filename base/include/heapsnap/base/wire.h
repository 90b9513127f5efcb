// Wire encoding shared by the snapshot writer, the reader and the capture: protobuf varints
// (written; the reader parses records with protobuf itself), zig-zag signed integers (both
// ways), little-endian fixed-width integers (the frame and footer, both ways).
//
//   std::string out;
//   PutVarint(&out, ZigZagEncode(-3));  // one byte: 0x05
#ifndef HEAPSNAP_BASE_WIRE_H_
#define HEAPSNAP_BASE_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace heapsnap {

// The longest varint (a 64-bit value) takes 10 bytes.
constexpr size_t kMaxVarintBytes = 10;

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes v as a varint at p, which has room for kMaxVarintBytes; returns the end.
inline unsigned char* EncodeVarint(uint64_t v, unsigned char* p) {
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return p;
}

inline void PutVarint(std::string* out, uint64_t v) {
  unsigned char buf[kMaxVarintBytes];
  const unsigned char* end = EncodeVarint(v, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}

inline void PutFixed32LE(std::string* out, uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out->append(b, 4);
}

inline uint32_t ReadFixed32LE(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_WIRE_H_
