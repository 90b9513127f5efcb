#include "heapsnap/base/wire.h"

#include <gtest/gtest.h>

#include <limits>

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

}  // namespace
}  // namespace heapsnap
