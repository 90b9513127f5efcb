// Storage for the walk's growable arrays (PodVector). Small blocks come from malloc. Large ones
// are mapped: they are asked for transparent huge pages (a capture of a million objects fills
// tens of MB of fresh memory, and a 4 KiB page fault each costs more than the work done on the
// page), and they grow by mremap, which moves page tables instead of copying. Released to the
// system when freed: the capture keeps nothing in the program it measures.
#ifndef HEAPSNAP_CAPTURE_BLOCK_MEMORY_H_
#define HEAPSNAP_CAPTURE_BLOCK_MEMORY_H_

#include <cstddef>

namespace heapsnap::capture {

class BlockMemory {
 public:
  // Blocks from this size on are mapped; their capacity is a multiple of the huge page size.
  static constexpr size_t kMappedBytes = size_t{1} << 20;

  // A block of at least bytes; *capacity_bytes is its usable size. Throws std::bad_alloc.
  static void* Allocate(size_t bytes, size_t* capacity_bytes);
  // Grows block (of old_bytes, from Allocate or Resize) to at least bytes, keeping its content.
  static void* Resize(void* block, size_t old_bytes, size_t bytes, size_t* capacity_bytes);
  // bytes is the capacity the block was given.
  static void Free(void* block, size_t bytes);
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_BLOCK_MEMORY_H_
