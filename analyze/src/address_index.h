// The hashed index of object addresses behind Snapshot::FindAddress, built by the loader and
// used by it to resolve every edge's target. Private to analyze/.
#ifndef HEAPSNAP_ANALYZE_ADDRESS_INDEX_H_
#define HEAPSNAP_ANALYZE_ADDRESS_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/hash.h"

namespace heapsnap {

constexpr uint32_t kNoObject = UINT32_MAX;

// The index behind Snapshot::FindAddress: object indices (kNoObject = empty) in
// Snapshot::address_slots, at the slot found by hashing the address and probing linearly, at
// load factor at most 1/2.
class AddressIndex {
 public:
  explicit AddressIndex(const Snapshot& s)
      : address_(s.address.data()),
        slots_(s.address_slots.data()),
        mask_(s.address_slots.size() - 1) {}

  // Fills s->address_slots. Two objects with one address make the file corrupt: returns them.
  static std::optional<std::pair<uint32_t, uint32_t>> Build(Snapshot* s);

  uint32_t Find(uint64_t a) const {
    for (size_t i = HashAddress(a) & mask_;; i = (i + 1) & mask_) {
      const uint32_t idx = slots_[i];
      if (idx == kNoObject || address_[idx] == a) return idx;
    }
  }

  // Finds targets[from, to) and stores their object indices in out[from, to); returns the
  // first edge whose target is not in the index, or SIZE_MAX.
  size_t Resolve(const std::vector<uint64_t>& targets, size_t from, size_t to, uint32_t* out) const;

 private:
  const uint64_t* address_;
  const uint32_t* slots_;
  size_t mask_;
};

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_ADDRESS_INDEX_H_
