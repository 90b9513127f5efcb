// AddressSet: the objects the walk has already written or queued, as one bit per 16 bytes of
// address space in 64 KiB regions. Every edge tests it, so it must be cheap: objects allocated
// together sit together in the bitmap (good locality, unlike a hash), and because every tracked
// object is entered before the walk, an edge never has to look at its target to know whether
// it is new.
// 16 bytes is the finest grain that needs no alignment: every object is at least 16 bytes
// (ob_refcnt and ob_type) and objects do not overlap, so two objects' addresses differ by 16 or
// more and never share a bit, even for 8-aligned static objects.
#ifndef HEAPSNAP_CAPTURE_ADDRESS_SET_H_
#define HEAPSNAP_CAPTURE_ADDRESS_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ptr_map.h"

namespace heapsnap::capture {

class AddressSet {
 public:
  // Adds p; true if it was not there before.
  __attribute__((always_inline)) bool Insert(const void* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    uint64_t* bits = Region(addr >> kRegionBits);
    const size_t bit = (addr & kRegionMask) >> 4;
    const uint64_t mask = uint64_t{1} << (bit & 63);
    uint64_t& word = bits[bit >> 6];
    if (word & mask) return false;
    word |= mask;
    return true;
  }

 private:
  static constexpr int kRegionBits = 16;
  static constexpr uintptr_t kRegionMask = (uintptr_t{1} << kRegionBits) - 1;
  static constexpr size_t kWordsPerRegion = (size_t{1} << kRegionBits) / 16 / 64;
  struct Cached {
    uintptr_t region = 0;
    uint64_t* bits = nullptr;
  };

  __attribute__((always_inline)) uint64_t* Region(uintptr_t region) {
    Cached& c = cache_[region & 1023];
    if (c.bits != nullptr && c.region == region) return c.bits;
    return RegionSlow(region, &c);
  }
  // Finds or makes the region's bitmap and caches it.
  __attribute__((noinline)) uint64_t* RegionSlow(uintptr_t region, Cached* cached);

  PtrMap<uint32_t> index_;  // region + 1 (keys must be non-zero) -> storage_ index
  std::vector<std::unique_ptr<uint64_t[]>> storage_;
  Cached cache_[1024];
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_ADDRESS_SET_H_
