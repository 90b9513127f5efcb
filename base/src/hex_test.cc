#include "heapsnap/base/hex.h"

#include <gtest/gtest.h>

#include <string>

namespace heapsnap {
namespace {

TEST(Hex, FormatsAddressesAndEscapes) {
  EXPECT_EQ(FormatAddress(0), "0x0");
  EXPECT_EQ(FormatAddress(0x7f3a2c1e0b40ULL), "0x7f3a2c1e0b40");
  std::string out;
  AppendHexEscape(0x1b, &out);
  AppendHexEscape(0xff, &out);
  EXPECT_EQ(out, "\\x1b\\xff");
}

}  // namespace
}  // namespace heapsnap
