#include "heapsnap/base/wire.h"

#include <gtest/gtest.h>

#include <limits>

#include "heapsnap/base/hash.h"

namespace heapsnap {
namespace {

TEST(Wire, VarintsMatchProtobufsEncoding) {
  std::string out;
  PutVarint(&out, 1);
  PutVarint(&out, 300);
  EXPECT_EQ(out, std::string("\x01\xac\x02", 3));
  out.clear();
  PutVarint(&out, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(out.size(), kMaxVarintBytes);
}

TEST(Wire, ZigZagRoundTripsAndKeepsSmallMagnitudesSmall) {
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(-3), 5u);
  for (int64_t v : {int64_t{0}, int64_t{-7}, int64_t{123456789},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ZigZagDecode(ZigZagEncode(v)), v);
  }
}

TEST(Wire, Fixed32IsLittleEndian) {
  std::string out;
  PutFixed32LE(&out, 0x11223344u);
  EXPECT_EQ(out, std::string("\x44\x33\x22\x11", 4));
  EXPECT_EQ(ReadFixed32LE(reinterpret_cast<const unsigned char*>(out.data())), 0x11223344u);
}

TEST(Hash, SpreadsAlignedAddressesOverLowBits) {
  // Addresses 16 bytes apart must not collide in a small power-of-two table.
  std::vector<int> buckets(64);
  for (uint64_t a = 0x7f0000000000ULL; a < 0x7f0000000000ULL + uint64_t{16} * 640; a += 16) {
    ++buckets[HashAddress(a) & 63];
  }
  for (int count : buckets) EXPECT_LT(count, 40);
}

}  // namespace
}  // namespace heapsnap
