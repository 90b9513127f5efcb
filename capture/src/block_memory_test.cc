#include "block_memory.h"

#include <gtest/gtest.h>

#include <cstring>

namespace heapsnap::capture {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

TEST(BlockMemoryTest, SmallBlocksHaveTheSizeAskedFor) {
  size_t capacity = 0;
  void* p = BlockMemory::Allocate(1000, &capacity);
  EXPECT_EQ(capacity, 1000u);
  std::memset(p, 1, capacity);
  BlockMemory::Free(p, capacity);
}

TEST(BlockMemoryTest, LargeBlocksAreWholeHugePages) {
  size_t capacity = 0;
  void* p = BlockMemory::Allocate(BlockMemory::kMappedBytes + 1, &capacity);
  EXPECT_EQ(capacity, kHugePage);
  std::memset(p, 1, capacity);
  BlockMemory::Free(p, capacity);
}

TEST(BlockMemoryTest, ResizeKeepsTheContentFromMallocToMappedAndBeyond) {
  size_t capacity = 0;
  auto* p = static_cast<unsigned char*>(BlockMemory::Allocate(4096, &capacity));
  for (size_t i = 0; i < capacity; ++i) p[i] = static_cast<unsigned char>(i * 31);
  size_t mapped = 0;
  p = static_cast<unsigned char*>(BlockMemory::Resize(p, capacity, 3 * kHugePage / 2, &mapped));
  EXPECT_EQ(mapped, 2 * kHugePage);  // rounded up to whole huge pages
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 31)) << i;
  p[mapped - 1] = 9;
  size_t grown = 0;
  p = static_cast<unsigned char*>(BlockMemory::Resize(p, mapped, 5 * kHugePage, &grown));
  EXPECT_EQ(grown, 5 * kHugePage);
  for (size_t i = 0; i < 4096; ++i) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 31)) << i;
  EXPECT_EQ(p[mapped - 1], 9);
  BlockMemory::Free(p, grown);
}

}  // namespace
}  // namespace heapsnap::capture
