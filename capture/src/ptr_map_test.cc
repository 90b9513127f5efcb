#include "ptr_map.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace heapsnap::capture {
namespace {

const void* At(uintptr_t address) { return reinterpret_cast<const void*>(address); }

TEST(PtrMapTest, FindsWhatWasInsertedAcrossGrowth) {
  PtrMap<uint32_t> map;
  // Object-like addresses: 16-byte aligned and clustered, the case the hash is for.
  for (uint32_t i = 0; i < 100000; ++i) {
    auto [slot, added] = map.Insert(At(0x7f0000000000 + 16 * uintptr_t{i}), i);
    ASSERT_TRUE(added);
    ASSERT_EQ(*slot, i);
  }
  EXPECT_EQ(map.size(), 100000u);
  for (uint32_t i = 0; i < 100000; ++i) {
    const uint32_t* v = map.Find(At(0x7f0000000000 + 16 * uintptr_t{i}));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  EXPECT_EQ(map.Find(At(0x7f0000000008)), nullptr);
  EXPECT_EQ(map.Find(At(0x10)), nullptr);
}

TEST(PtrMapTest, InsertingAKeyAgainKeepsTheFirstValue) {
  PtrMap<int> map;
  EXPECT_TRUE(map.Insert(At(0x1000), 1).second);
  auto [slot, added] = map.Insert(At(0x1000), 2);
  EXPECT_FALSE(added);
  EXPECT_EQ(*slot, 1);
  *slot = 3;  // the slot is the stored value
  const PtrMap<int>& read_only = map;
  EXPECT_EQ(*read_only.Find(At(0x1000)), 3);
  EXPECT_EQ(map.size(), 1u);
}

}  // namespace
}  // namespace heapsnap::capture
