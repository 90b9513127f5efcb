#include "heapsnap/base/hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace heapsnap {
namespace {

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
