#include "object_ids.h"

#include <gtest/gtest.h>

namespace heapsnap::cli {
namespace {

TEST(ObjectIds, ParsesHexAndDecimalAndRefusesTheRest) {
  auto hex = ParseAddress("0x7f3a2c1e0b40");
  ASSERT_TRUE(hex.ok());
  EXPECT_EQ(*hex, 0x7f3a2c1e0b40ULL);
  auto decimal = ParseAddress("140000000");
  ASSERT_TRUE(decimal.ok());
  EXPECT_EQ(*decimal, 140000000ULL);
  for (const char* bad : {"", "zz", "0x12g", "12 ", "-", "99999999999999999999999"}) {
    auto parsed = ParseAddress(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("is not an object id"), std::string::npos);
  }
}

}  // namespace
}  // namespace heapsnap::cli
