#include "address_set.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace heapsnap::capture {
namespace {

const void* At(uintptr_t address) { return reinterpret_cast<const void*>(address); }

TEST(AddressSetTest, AddsEachAddressOnce) {
  auto set = std::make_unique<AddressSet>();
  EXPECT_TRUE(set->Insert(At(0x7f0000001000)));
  EXPECT_FALSE(set->Insert(At(0x7f0000001000)));
  // Objects are at least 16 bytes apart: the next possible object is a different one.
  EXPECT_TRUE(set->Insert(At(0x7f0000001010)));
  // 8-aligned static objects too.
  EXPECT_TRUE(set->Insert(At(0x7f0000001028)));
  EXPECT_FALSE(set->Insert(At(0x7f0000001028)));
}

TEST(AddressSetTest, KeepsRegionsApartWhenTheirCacheSlotsCollide) {
  auto set = std::make_unique<AddressSet>();
  // Regions of 64 KiB; 1024 cache slots: these regions share a slot, and thousands of regions
  // go through the index behind the cache.
  for (uintptr_t r = 0; r < 5000; ++r) {
    ASSERT_TRUE(set->Insert(At(0x500000000000 + (r << 16) + 0x40))) << r;
  }
  for (uintptr_t r = 0; r < 5000; ++r) {
    ASSERT_FALSE(set->Insert(At(0x500000000000 + (r << 16) + 0x40))) << r;
    ASSERT_TRUE(set->Insert(At(0x500000000000 + (r << 16) + 0x50))) << r;
  }
  const uintptr_t same_slot = 0x500000000000 + (uintptr_t{1024} << 16);
  EXPECT_FALSE(set->Insert(At(same_slot + 0x40)));
  EXPECT_TRUE(set->Insert(At(same_slot + 0x60)));
}

}  // namespace
}  // namespace heapsnap::capture
