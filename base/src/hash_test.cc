#include "heapsnap/base/hash.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
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

TEST(Hash, StableHashIsFnv1a64) {
  // The published FNV-1a 64 test vectors: fingerprints written today must read the same in
  // every later build.
  EXPECT_EQ(StableHash(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(StableHash("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(StableHash("foobar"), 0x85944171f73967e8ULL);
  // Chaining continues the same hash.
  EXPECT_EQ(StableHash("bar", StableHash("foo")), StableHash("foobar"));
}

}  // namespace
}  // namespace heapsnap
