#include "block_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "heapsnap/base/huge_pages.h"

namespace heapsnap::capture {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* Map(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  AdviseHugePagesMapping(p, bytes);
  return p;
}

}  // namespace

void* BlockMemory::Allocate(size_t bytes, size_t* capacity_bytes) {
  if (bytes < kMappedBytes) {
    void* p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    *capacity_bytes = bytes;
    return p;
  }
  *capacity_bytes = RoundUp(bytes, kHugePage);
  return Map(*capacity_bytes);
}

void* BlockMemory::Resize(void* block, size_t old_bytes, size_t bytes, size_t* capacity_bytes) {
  if (old_bytes < kMappedBytes) {
    void* p = Allocate(bytes, capacity_bytes);
    std::memcpy(p, block, old_bytes);
    std::free(block);
    return p;
  }
  *capacity_bytes = RoundUp(bytes, kHugePage);
  void* p = mremap(block, old_bytes, *capacity_bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
  AdviseHugePagesMapping(p, *capacity_bytes);
  return p;
}

void BlockMemory::Free(void* block, size_t bytes) {
  if (bytes < kMappedBytes) {
    std::free(block);
  } else {
    munmap(block, bytes);
  }
}

}  // namespace heapsnap::capture
