#include "pod_vector.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace heapsnap::capture {
namespace {

TEST(PodVectorTest, KeepsValuesAcrossGrowthFromMallocToMappedBlocks) {
  PodVector<uint64_t> v;
  EXPECT_TRUE(v.empty());
  // 3 MiB of values: grows through malloc'd blocks, then mapped ones moved by mremap.
  const size_t n = (size_t{3} << 20) / sizeof(uint64_t);
  for (uint64_t i = 0; i < n; ++i) v.push_back(i * 7);
  ASSERT_EQ(v.size(), n);
  EXPECT_GE(v.capacity(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(v[i], i * 7) << i;
  EXPECT_EQ(v.back(), (n - 1) * 7);
}

TEST(PodVectorTest, ReserveMoreMakesRoomWithoutChangingTheSize) {
  PodVector<int> v;
  v.push_back(1);
  v.reserve_more(5000);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_GE(v.capacity(), 5001u);
  const int* before = v.data();
  for (int i = 0; i < 5000; ++i) v.push_back(i);
  EXPECT_EQ(v.data(), before);  // no growth
}

TEST(PodVectorTest, TruncateOnlyShrinksAndSwapExchanges) {
  PodVector<int> a;
  PodVector<int> b;
  for (int i = 0; i < 10; ++i) a.push_back(i);
  a.truncate(20);
  EXPECT_EQ(a.size(), 10u);
  a.truncate(4);
  EXPECT_EQ(a.size(), 4u);
  b.push_back(42);
  a.swap(b);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0], 42);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[3], 3);
  b.clear();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace heapsnap::capture
