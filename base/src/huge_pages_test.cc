#include "heapsnap/base/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <vector>

namespace heapsnap {
namespace {

TEST(HugePagesTest, AnAdvisedMappingStillGrowsByMremap) {
  // mremap refuses a range that spans more than one mapping: advising must not split it.
  constexpr size_t kMiB = size_t{1} << 20;
  void* p = mmap(nullptr, 5 * kMiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  // Misaligned on purpose, as a mapping of any size may be.
  void* block = static_cast<char*>(p) + 4096;
  ASSERT_EQ(munmap(p, 4096), 0);
  const size_t bytes = 5 * kMiB - 4096;
  AdviseHugePagesMapping(block, bytes);
  std::memset(block, 7, bytes);
  void* grown = mremap(block, bytes, 9 * kMiB, MREMAP_MAYMOVE);
  ASSERT_NE(grown, MAP_FAILED);
  EXPECT_EQ(static_cast<unsigned char*>(grown)[bytes - 1], 7);
  munmap(grown, 9 * kMiB);
}

TEST(HugePagesTest, ReserveHugeReserves) {
  std::vector<int> v;
  ReserveHuge(v, 1000);
  EXPECT_GE(v.capacity(), 1000u);
  AssignHuge(v, 10, 3);
  EXPECT_EQ(v, std::vector<int>(10, 3));
}

}  // namespace
}  // namespace heapsnap
