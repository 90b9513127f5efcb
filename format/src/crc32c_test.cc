#include "heapsnap/format/crc32c.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace heapsnap {
namespace {

TEST(Crc32c, HardwareAndPortableAgree) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);  // the standard CRC-32C check value
  std::mt19937 rng(1);
  for (size_t n = 0; n < 300; ++n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(Crc32c(s.data(), s.size()), Crc32cPortable(s.data(), s.size())) << n;
  }
}

}  // namespace
}  // namespace heapsnap
