// The project's hashes. HashAddress: for every open-addressing table keyed by addresses or
// pointers (addresses are 16-byte aligned and clustered, so their low bits are poor; the
// finalizer of MurmurHash3 mixes the high bits down). StableHash: for names that must be the
// same on every machine, build and run (fingerprints): 64-bit FNV-1a, which depends on the
// bytes alone, never on std::hash or the platform.
#ifndef HEAPSNAP_BASE_HASH_H_
#define HEAPSNAP_BASE_HASH_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace heapsnap {

inline size_t HashAddress(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return static_cast<size_t>(k);
}

inline constexpr uint64_t kStableHashSeed = 0xcbf29ce484222325ULL;  // FNV-1a's offset basis

// FNV-1a over `bytes`, continuing from `seed` (chain calls to hash several fields; put a
// separator byte between fields that could run into each other).
inline uint64_t StableHash(std::string_view bytes, uint64_t seed = kStableHashSeed) {
  uint64_t h = seed;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV's 64-bit prime
  }
  return h;
}

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_HASH_H_
