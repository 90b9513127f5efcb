// One hash for addresses and pointers, for every open-addressing table keyed by them.
// Addresses are 16-byte aligned and clustered, so their low bits are poor; the finalizer of
// MurmurHash3 mixes the high bits down.
#ifndef HEAPSNAP_BASE_HASH_H_
#define HEAPSNAP_BASE_HASH_H_

#include <cstddef>
#include <cstdint>

namespace heapsnap {

inline size_t HashAddress(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return static_cast<size_t>(k);
}

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_HASH_H_
